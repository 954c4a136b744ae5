"""MDME importer: writer -> importer round trips, layouts, labels and options."""

from __future__ import annotations

import json
import shutil

import nibabel as nib
import numpy as np
import pydicom
import pytest
from dicom_cases import AXIAL, edit, write_acquisition

from synflair.errors import SynflairError
from synflair.geometry import stack_affine
from synflair.io.mdme import mdme_to_nifti, read_mdme
from synflair.physics import MDME_PAPER


def _slope(acquisition) -> float:
    return float(pydicom.dcmread(acquisition.paths[0]).RescaleSlope)


def _world(affine, shape):
    ijk = np.indices(shape[:3]).reshape(3, -1)
    return (affine[:3, :3] @ ijk + affine[:3, 3:]).T


def test_round_trip_gives_the_signals_back(acquisition):
    mdme = read_mdme(acquisition.directory)
    quantum = _slope(acquisition)  # stored value = round(value / slope)
    # complex images as written, within the int16 quantization of Re and Im
    assert mdme.signal.shape == (32, 32, 3, 8) and mdme.signal.dtype == np.complex64
    raw_error = mdme.raw - acquisition.raw
    assert np.abs(raw_error.real).max() <= quantum * 0.51
    assert np.abs(raw_error.imag).max() <= quantum * 0.51
    # magnitudes, within the quantization
    assert np.abs(mdme.magnitude - np.abs(acquisition.signed)).max() <= quantum
    # the phase-corrected real part is the signed signal (negative at short TD)
    tissue = acquisition.tissue
    peak = np.abs(acquisition.signed).max()
    real_error = np.abs(mdme.real - acquisition.signed)[tissue]
    assert real_error.max() < 0.003 * peak
    assert (acquisition.signed[tissue] < -0.05).any()
    strong = np.abs(acquisition.signed) > 0.02 * peak
    assert np.array_equal(np.sign(mdme.real[strong]), np.sign(acquisition.signed[strong]))
    # the removed phase is the true background phase inside the head
    for e in range(2):
        difference = np.angle(np.exp(1j * (mdme.background_phase[..., e] - acquisition.phase)))
        assert np.abs(difference[tissue]).max() < 0.08  # largest at the edge of the head
    # geometry and timing
    np.testing.assert_allclose(mdme.affine, acquisition.affine, atol=1e-9)
    assert mdme.te == tuple(MDME_PAPER.volume_te) and mdme.td == tuple(MDME_PAPER.volume_td)
    assert (mdme.tr, mdme.flip_angle, mdme.saturation_angle) == (4000.0, 90.0, 120.0)
    assert mdme.protocol == MDME_PAPER
    assert mdme.delay_attribute == "TriggerTime"
    assert mdme.source_components == ("real", "imaginary")
    assert mdme.slice_thickness == 5.0


def test_without_phase_correction_the_real_part_would_be_wrong(acquisition):
    """Guards the test above: the written phase does scramble the real part."""
    wrong = np.abs(acquisition.raw.real - acquisition.signed)[acquisition.tissue]
    assert wrong.max() > 0.3 * np.abs(acquisition.signed).max()


@pytest.mark.parametrize("component", ["magnitude", "real"])
def test_mdme_to_nifti_writes_image_and_sidecar(acquisition, tmp_path, component):
    out = mdme_to_nifti(acquisition.directory, tmp_path / "sub-01_mdme.nii.gz", component=component)
    image = nib.load(out)
    assert image.shape == (32, 32, 3, 8) and image.get_data_dtype() == np.float32
    np.testing.assert_allclose(image.affine, acquisition.affine, atol=1e-5)
    assert int(image.header["sform_code"]) == 1 and int(image.header["qform_code"]) == 1
    data = np.asarray(image.dataobj)
    expected = np.abs(acquisition.signed) if component == "magnitude" else acquisition.signed
    tolerance = 2 * _slope(acquisition) if component == "magnitude" else 0.01
    assert np.abs(data - expected).max() <= tolerance
    if component == "real":
        assert data.min() < 0
    else:
        assert data.min() >= 0
    meta = json.loads((tmp_path / "sub-01_mdme.json").read_text())
    assert meta["EchoTime"] == [0.0169, 0.0845] * 4
    assert meta["SaturationDelayTime"] == [0.146, 0.146, 0.546, 0.546, 1.879, 1.879, 3.879, 3.879]
    assert meta["RepetitionTime"] == 4.0
    assert meta["FlipAngle"] == 90.0 and meta["SaturationFlipAngle"] == 120.0
    assert meta["ImageComponent"] == component


def _one_series_per_image(source, target):
    """Re-export every image as its own series in its own folder."""
    dirs = []
    for n, path in enumerate(sorted(source.iterdir())):
        folder = target / f"series{n:03d}"
        folder.mkdir(parents=True)

        def change(ds, n=n):
            ds.SeriesInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["series", str(n)])
            ds.SeriesNumber = 100 + n
            ds.InstanceNumber = 1

        shutil.copy(path, folder / "IM0001.dcm")
        edit(folder / "IM0001.dcm", change)
        dirs.append(folder)
    return dirs


def test_one_series_per_image_layout(acquisition, tmp_path):
    dirs = _one_series_per_image(acquisition.directory, tmp_path / "export")
    reference = read_mdme(acquisition.directory)
    # as many folders...
    spread = read_mdme(dirs)
    np.testing.assert_array_equal(spread.signal, reference.signal)
    np.testing.assert_array_equal(spread.affine, reference.affine)
    # ...or as one parent folder searched recursively
    nested = read_mdme(tmp_path / "export")
    np.testing.assert_array_equal(nested.signal, reference.signal)


def test_images_split_over_folders_in_any_order(acquisition, tmp_path):
    real, imaginary = tmp_path / "a", tmp_path / "b"
    real.mkdir(), imaginary.mkdir()
    for n, path in enumerate(acquisition.paths):
        code = pydicom.dcmread(path, stop_before_pixels=True).ImageType[2]
        # names in reverse order, so that file order is not slice order
        shutil.copy(path, (real if code == "REAL" else imaginary) / f"{999 - n}.dcm")
    mdme = read_mdme([imaginary, real])
    np.testing.assert_array_equal(mdme.signal, read_mdme(acquisition.directory).signal)


def test_magnitude_and_phase_source(acquisition, tmp_path):
    """GE-style magnitude + phase (milliradians) images give the same signal."""
    folder = tmp_path / "magphase"
    folder.mkdir()
    for path in acquisition.paths:
        ds = pydicom.dcmread(path)
        if ds.ImageType[2] != "REAL":
            continue
        number = int(path.name[-9:-4])  # S001_I00001.dcm: real, S001_I00002.dcm: imaginary
        partner = pydicom.dcmread(path.with_name(f"{path.name[:-9]}{number + 1:05d}.dcm"))
        value = ds.pixel_array * float(ds.RescaleSlope) + 1j * partner.pixel_array * float(
            partner.RescaleSlope
        )
        for code, word, pixels, slope in (
            (0, "M", np.abs(value), 2 * float(ds.RescaleSlope)),  # |z| <= sqrt(2) max(Re, Im)
            (1, "P", np.angle(value) * 1000.0, 1.0),
        ):
            ds.ImageType = ["ORIGINAL", "PRIMARY", word]
            ds.get_private_item(0x0043, 0x2F, "GEMS_PARM_01").value = code
            ds.RescaleSlope = slope
            ds.PixelData = np.rint(pixels / slope).astype("<i2").tobytes()
            ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[path.name, word])
            ds.save_as(folder / f"{word}_{path.name}", enforce_file_format=True)
    mdme = read_mdme(folder)
    assert mdme.source_components == ("magnitude", "phase")
    peak = np.abs(acquisition.signed).max()
    assert np.abs(mdme.magnitude - np.abs(acquisition.signed)).max() <= 2 * _slope(acquisition)
    assert np.abs(mdme.real - acquisition.signed)[acquisition.tissue].max() < 0.01 * peak


def test_magnitude_only_source(acquisition, tmp_path):
    folder = tmp_path / "magnitude"
    folder.mkdir()
    mdme = read_mdme(acquisition.directory)
    for path in acquisition.paths[::2]:  # the real images, relabelled as magnitudes
        ds = pydicom.dcmread(path)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M"]
        ds.get_private_item(0x0043, 0x2F, "GEMS_PARM_01").value = 0
        k = round((float(ds.ImagePositionPatient[2]) + 12.0) / 6.0)
        v = [i for i in range(8) if MDME_PAPER.volume_td[i] == float(ds.TriggerTime)]
        v = next(i for i in v if MDME_PAPER.volume_te[i] == float(ds.EchoTime))
        pixels = np.abs(mdme.raw[:, :, k, v]).T
        ds.PixelData = np.rint(pixels / float(ds.RescaleSlope)).astype("<i2").tobytes()
        ds.save_as(folder / path.name, enforce_file_format=True)
    magnitude_only = read_mdme(folder)
    assert magnitude_only.source_components == ("magnitude",)
    assert np.abs(magnitude_only.magnitude - mdme.magnitude).max() <= 2 * _slope(acquisition)
    with pytest.raises(SynflairError, match="magnitude images only"):
        _ = magnitude_only.real
    with pytest.raises(SynflairError, match="magnitude images only"):
        mdme_to_nifti(folder, tmp_path / "out.nii.gz", component="real")
    assert not (tmp_path / "out.nii.gz").exists()


def test_delay_in_inversion_time_and_named_attributes(mdme_copy):
    reference = read_mdme(mdme_copy)

    def move(ds):
        ds.InversionTime = ds.TriggerTime
        ds.TriggerTime = "0"

    for path in sorted(mdme_copy.iterdir()):
        edit(path, move)
    fallback = read_mdme(mdme_copy)
    assert fallback.delay_attribute == "InversionTime"
    np.testing.assert_array_equal(fallback.signal, reference.signal)
    assert fallback.td == reference.td
    named = read_mdme(mdme_copy, delay_attribute="0018,0082")  # InversionTime as a tag
    np.testing.assert_array_equal(named.signal, reference.signal)
    with pytest.raises(SynflairError, match=r"TriggerTime = 0\.0; expected a positive"):
        read_mdme(mdme_copy, delay_attribute="TriggerTime")
    with pytest.raises(SynflairError, match="no TemporalPositionIdentifier"):
        read_mdme(mdme_copy, delay_attribute="TemporalPositionIdentifier")
    with pytest.raises(SynflairError, match="delay_attribute must be a DICOM keyword"):
        read_mdme(mdme_copy, delay_attribute="Delay Time")


def test_no_delay_attribute_is_an_error(mdme_copy):
    def drop(ds):
        del ds.TriggerTime

    for path in sorted(mdme_copy.iterdir()):
        edit(path, drop)
    with pytest.raises(SynflairError, match=r"tried TriggerTime \(in 0/48 images"):
        read_mdme(mdme_copy)


def test_image_type_is_used_without_the_ge_private_tag(mdme_copy):
    reference = read_mdme(mdme_copy)

    def drop(ds):
        del ds[0x0043, 0x102F]
        del ds[0x0043, 0x0010]

    for path in sorted(mdme_copy.iterdir()):
        edit(path, drop)
    np.testing.assert_array_equal(read_mdme(mdme_copy).signal, reference.signal)


def test_private_tag_wins_over_image_type(mdme_copy):
    """GE's (0043,102F) decides the component even where ImageType says otherwise."""
    reference = read_mdme(mdme_copy)

    def confuse(ds):
        ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]

    for path in sorted(mdme_copy.iterdir()):
        edit(path, confuse)
    np.testing.assert_array_equal(read_mdme(mdme_copy).signal, reference.signal)


@pytest.mark.parametrize(
    "affine",
    [
        stack_affine([100.0, -120.0, 90.0], [0, 1, 0, 0, 0, -1], [7.0, 6.5], 5.5),  # sagittal
        stack_affine(
            [-100.0, -90.0, 20.0],
            [np.cos(0.3), np.sin(0.3), 0, -np.sin(0.3) * 0.8, np.cos(0.3) * 0.8, 0.6],
            [7.0, 7.0],
            6.0,
        ),  # double oblique
    ],
    ids=["sagittal", "oblique"],
)
def test_other_orientations(tmp_path, affine):
    written = write_acquisition(tmp_path / "d", shape=(12, 10, 3), affine=affine)
    mdme = read_mdme(written.directory)
    np.testing.assert_allclose(mdme.affine, affine, atol=1e-6)
    assert np.abs(mdme.magnitude - np.abs(written.signed)).max() < 1e-3


def test_reversed_slice_order_maps_the_same_world_points(tmp_path):
    """A stack written against the slice normal comes back ordered along it."""
    flipped = AXIAL @ np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 2], [0, 0, 0, 1]])
    written = write_acquisition(tmp_path / "d", shape=(10, 8, 3), affine=flipped)
    mdme = read_mdme(written.directory)
    assert mdme.affine[2, 2] > 0 > flipped[2, 2]
    world_in = _world(flipped, (10, 8, 3))
    world_out = _world(mdme.affine, (10, 8, 3))
    order = [np.argmin(np.linalg.norm(world_in - p, axis=1)) for p in world_out]
    np.testing.assert_allclose(world_in[order], world_out, atol=1e-6)
    truth = np.abs(written.signed).reshape(-1, 8)[order]
    assert np.abs(mdme.magnitude.reshape(-1, 8) - truth).max() < 1e-3


def test_saturation_angle_and_bad_component(acquisition, tmp_path):
    out = mdme_to_nifti(acquisition.directory, tmp_path / "x.nii.gz", saturation_angle=110.0)
    assert json.loads(out.with_name("x.json").read_text())["SaturationFlipAngle"] == 110.0
    with pytest.raises(SynflairError, match="component must be"):
        mdme_to_nifti(acquisition.directory, tmp_path / "y.nii.gz", component="imaginary")
    with pytest.raises(SynflairError, match=r"ending in \.nii\.gz or \.nii"):
        mdme_to_nifti(acquisition.directory, tmp_path / "y.mgz")
    with pytest.raises(ValueError, match="saturation_angle"):
        read_mdme(acquisition.directory, saturation_angle=0.0)
