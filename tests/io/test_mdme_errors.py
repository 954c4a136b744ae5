"""MDME importer: every input it cannot sort is an error naming what is wrong."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_cases import edit, write_acquisition, write_flair
from pydicom.valuerep import format_number_as_ds

from synflair.errors import SynflairError
from synflair.io.mdme import mdme_to_nifti, read_mdme
from synflair.io.mdme_sort import read_pixels, sort_mdme


def _file_of(folder, *, slice_z, te, td, word):
    for path in sorted(folder.iterdir()):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if (
            float(ds.ImagePositionPatient[2]) == slice_z
            and float(ds.EchoTime) == te
            and float(ds.TriggerTime) == td
            and ds.ImageType[2] == word
        ):
            return path
    raise AssertionError("no such file")


def test_missing_image_is_named_with_counts(mdme_copy, tmp_path):
    # slice 3 of the axial stack is at z = -12 + 2 * 6 = 0 mm
    victim = _file_of(mdme_copy, slice_z=0.0, te=84.5, td=3879.0, word="IMAGINARY")
    victim.unlink()
    with pytest.raises(SynflairError) as info:
        mdme_to_nifti(mdme_copy, tmp_path / "out.nii.gz")
    message = str(info.value)
    assert "missing image(s) (slice 3 at 0 mm, TE 84.5 ms, TriggerTime 3879 ms, imaginary)" in (
        message
    )
    assert "found 47 images" in message
    assert "TE (ms) {16.9: 24, 84.5: 23}" in message
    assert "TriggerTime (ms) {146: 12, 546: 12, 1879: 12, 3879: 11}" in message
    assert "component {'real': 24, 'imaginary': 23}" in message
    assert "{-12: 16, -6: 16, 0: 15}" in message
    assert "3 slice(s) x 2 TE x 4 TriggerTime x 2 component(s) (real+imaginary)" in message
    assert "= 48 images" in message
    assert "\n" not in message
    assert not list(tmp_path.glob("out*"))


def test_many_missing_images_are_listed_in_part(mdme_copy):
    for path in sorted(mdme_copy.iterdir())[:-16]:  # keep only the last slice
        if pydicom.dcmread(path, stop_before_pixels=True).EchoTime != 16.9:
            path.unlink()
    with pytest.raises(SynflairError, match=r"missing image\(s\) .* and \d+ more; found"):
        read_mdme(mdme_copy)


def test_duplicated_image_names_both_files(mdme_copy):
    original = _file_of(mdme_copy, slice_z=-6.0, te=16.9, td=546.0, word="REAL")
    copy = mdme_copy / "sub" / "copy_of_it.dcm"
    copy.parent.mkdir()
    shutil.copy(original, copy)
    with pytest.raises(SynflairError) as info:
        read_mdme(mdme_copy)
    message = str(info.value)
    assert "duplicated image (slice 2 at -6 mm, TE 16.9 ms, TriggerTime 546 ms, real)" in message
    assert str(original) in message and str(copy) in message


def test_images_of_another_scan_are_named(acquisition, tmp_path):
    write_acquisition(tmp_path / "second", uid_seed="sub-02")
    with pytest.raises(SynflairError, match="different FrameOfReferenceUIDs") as info:
        read_mdme([acquisition.directory, tmp_path / "second"])
    assert str(tmp_path / "second") in str(info.value)


def test_a_repeated_acquisition_is_a_duplicate(acquisition, tmp_path):
    """The same exam exported twice (same frame of reference): every image is doubled."""
    shutil.copytree(acquisition.directory, tmp_path / "again")
    with pytest.raises(SynflairError, match=r"duplicated image \(slice 1 at -12 mm") as info:
        read_mdme([acquisition.directory, tmp_path / "again"])
    assert "found 96 images" in str(info.value)


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda ds: setattr(ds, "PixelSpacing", ["7.5", "7.2"]), "pixel spacing"),
        (lambda ds: setattr(ds, "ImageOrientationPatient", [1, 0, 0, 0, 0.8, 0.6]), "orientation"),
    ],
    ids=["pixel-spacing", "orientation"],
)
def test_mixed_geometry_names_the_files(mdme_copy, change, what):
    paths = sorted(mdme_copy.iterdir())
    edit(paths[5], change)
    with pytest.raises(SynflairError, match="mixed geometry") as info:
        read_mdme(mdme_copy)
    message = str(info.value)
    assert str(paths[0]) in message and str(paths[5]) in message and what in message


def test_mixed_matrix_names_the_files(mdme_copy):
    paths = sorted(mdme_copy.iterdir())

    def crop(ds):
        ds.PixelData = ds.pixel_array[:16].tobytes()
        ds.Rows = 16

    edit(paths[7], crop)
    with pytest.raises(SynflairError, match=r"matrix 32x32 but .* 16x32") as info:
        read_mdme(mdme_copy)
    assert str(paths[7]) in str(info.value)


def test_non_dicom_file_is_skipped_and_named(mdme_copy, acquisition, caplog):
    notes = mdme_copy / "notes.txt"
    notes.write_text("scanned on Tuesday; the patient moved during the FLAIR\n" * 5)
    result = read_mdme(mdme_copy)
    np.testing.assert_array_equal(result.real, read_mdme(acquisition.directory).real)
    assert f"skipped 1 file(s) that are not DICOM: {notes}" in caplog.text


def test_only_non_dicom_files_are_refused(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("scanned on Tuesday; the patient moved during the FLAIR\n" * 5)
    with pytest.raises(SynflairError, match=re.escape(f"{notes}: not a DICOM file")):
        read_mdme(tmp_path)


def test_known_junk_is_ignored(mdme_copy, acquisition):
    (mdme_copy / "DICOMDIR").write_bytes(b"not really a DICOMDIR")
    (mdme_copy / ".DS_Store").write_bytes(b"\x00\x01")
    (mdme_copy / ".thumbnails").mkdir()
    (mdme_copy / ".thumbnails" / "a.png").write_bytes(b"\x89PNG")
    (mdme_copy / "Thumbs.db").write_bytes(b"\x00")
    assert read_mdme(mdme_copy).signal.shape == (32, 32, 3, 8)


def test_file_truncated_in_the_pixel_data_is_named(mdme_copy):
    path = sorted(mdme_copy.iterdir())[10]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 700])
    with pytest.raises(SynflairError, match=re.escape(f"{path}: unreadable or truncated")):
        read_mdme(mdme_copy)


def test_file_truncated_in_the_header_is_named(mdme_copy):
    path = sorted(mdme_copy.iterdir())[3]
    path.write_bytes(path.read_bytes()[:400])
    with pytest.raises(SynflairError, match=re.escape(f"{path}: unreadable or truncated")):
        read_mdme(mdme_copy)


def test_empty_file_is_named(mdme_copy):
    path = mdme_copy / "empty.dcm"
    path.write_bytes(b"")
    with pytest.raises(
        SynflairError, match=re.escape(f"{path}: not a DICOM file, or an unreadable")
    ):
        read_mdme(mdme_copy)


def test_unlabelled_component_is_named(mdme_copy):
    path = sorted(mdme_copy.iterdir())[2]

    def unlabel(ds):
        del ds[0x0043, 0x102F]
        ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]

    edit(path, unlabel)
    with pytest.raises(
        SynflairError, match=re.escape(f"{path}: cannot tell the complex component")
    ):
        read_mdme(mdme_copy)


def test_bad_private_component_code_is_named(mdme_copy):
    path = sorted(mdme_copy.iterdir())[2]
    edit(path, lambda ds: setattr(ds.get_private_item(0x43, 0x2F, "GEMS_PARM_01"), "value", 7))
    with pytest.raises(SynflairError, match=re.escape(f"{path}: GE (0043,102F) = 7")):
        read_mdme(mdme_copy)


def test_only_imaginary_images_is_an_error(mdme_copy):
    for path in sorted(mdme_copy.iterdir())[::2]:
        path.unlink()
    with pytest.raises(SynflairError, match=r"found components \{'imaginary': 24\}"):
        read_mdme(mdme_copy)


def test_missing_slice_in_the_middle_is_detected(tmp_path):
    written = write_acquisition(tmp_path / "d", shape=(8, 8, 4))
    for path in written.paths:
        if float(pydicom.dcmread(path, stop_before_pixels=True).ImagePositionPatient[2]) == 0.0:
            path.unlink()
    with pytest.raises(SynflairError, match=r"not equally spaced \(missing slices\?\)"):
        read_mdme(written.directory)


def test_missing_attribute_is_named(mdme_copy):
    path = sorted(mdme_copy.iterdir())[4]

    def drop(ds):
        del ds.EchoTime

    edit(path, drop)
    with pytest.raises(SynflairError, match=re.escape(f"{path}: missing DICOM attribute EchoTime")):
        read_mdme(mdme_copy)


def test_mixed_repetition_time(mdme_copy):
    edit(sorted(mdme_copy.iterdir())[4], lambda ds: setattr(ds, "RepetitionTime", "4500"))
    with pytest.raises(SynflairError, match=r"mixed tr values \[4000\.0, 4500\.0\]"):
        read_mdme(mdme_copy)


def test_missing_or_empty_folders(tmp_path):
    with pytest.raises(SynflairError, match="no such directory"):
        read_mdme(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SynflairError, match="no files in"):
        read_mdme(tmp_path / "empty")
    with pytest.raises(SynflairError, match="no DICOM folder given"):
        read_mdme([])


def _rescaled(factor):
    """Store a file's pixels at ``factor`` times its slope: same values, other rescale."""

    def change(ds):
        values = ds.pixel_array.astype(float) * float(ds.RescaleSlope)
        ds.RescaleSlope = format_number_as_ds(float(ds.RescaleSlope) * factor)
        ds.PixelData = np.rint(values / float(ds.RescaleSlope)).astype("<i2").tobytes()

    return change


def test_per_image_rescale_is_read_for_philips_and_refused_for_others(mdme_copy, acquisition):
    """Philips rescales each image; GE (and synflair's writer) one rescale per series."""
    path = sorted(mdme_copy.iterdir())[6]
    edit(path, _rescaled(4.0))
    with pytest.raises(SynflairError) as info:
        read_mdme(mdme_copy)
    assert str(info.value).startswith(f"{path}: RescaleSlope = ")
    assert "expected one RescaleSlope per series and component" in str(info.value)

    for other in sorted(mdme_copy.iterdir()):
        edit(other, lambda ds: setattr(ds, "Manufacturer", "Philips Medical Systems"))
    signal = read_mdme(mdme_copy).raw
    reference = read_mdme(acquisition.directory).raw
    step = 4 * float(pydicom.dcmread(path, stop_before_pixels=True).RescaleSlope)
    assert np.abs(signal - reference).max() <= step  # the 4x coarser image only
    assert np.abs(signal - reference).max() > 0

    edit(path, _rescaled(1e4 / 4))
    with pytest.raises(SynflairError, match="expected per-image slopes within a factor 1000"):
        read_mdme(mdme_copy)


@pytest.mark.parametrize(
    ("keyword", "value", "expected"),
    [
        ("RescaleSlope", "1e30", "RescaleSlope = 1e+30; expected a finite positive slope"),
        ("RescaleSlope", "NaN", "RescaleSlope = nan; expected a finite positive slope"),
        ("RescaleSlope", "0", "RescaleSlope = 0.0; expected a finite positive slope"),
        ("RescaleSlope", "-1", "RescaleSlope = -1.0; expected a finite positive slope"),
        ("RescaleIntercept", "inf", "RescaleIntercept = inf; expected a finite intercept"),
        ("RescaleIntercept", "1e9", "RescaleIntercept = 1000000000.0; expected a finite"),
    ],
)
def test_absurd_rescale_is_named(mdme_copy, keyword, value, expected):
    """Issue 11.2: one file with slope 1e30 or NaN gave exit 0 and a corrupted volume."""
    path = sorted(mdme_copy.iterdir())[9]
    edit(path, lambda ds: setattr(ds, keyword, value))
    with pytest.raises(SynflairError, match=re.escape(f"{path}: {expected}")):
        read_mdme(mdme_copy)


def test_a_flair_series_beside_the_mdme_is_named(acquisition, tmp_path):
    """Issue 11.8: an MDME folder mixed with a FLAIR said 'missing FlipAngle'."""
    folder = Path(shutil.copytree(acquisition.directory, tmp_path / "exam"))
    write_flair(folder, uid_seed="sub-01")
    with pytest.raises(SynflairError) as info:
        read_mdme(folder)
    message = str(info.value)
    assert message.startswith(f"{folder}: these are 2 series: series 1 'MDME raw' (48 files")
    assert "series 2 'FLAIR' (3 files" in message and "not one MDME acquisition" in message


def test_a_folder_with_one_truncated_file_names_it(acquisition, tmp_path):
    """Issue 11.8: it said "found components {'imaginary': 1}"."""
    folder = tmp_path / "one"
    folder.mkdir()
    path = folder / acquisition.paths[1].name
    path.write_bytes(acquisition.paths[1].read_bytes()[:-300])
    with pytest.raises(SynflairError) as info:
        read_mdme(folder)
    assert f"{path}: unreadable or truncated DICOM file (" in str(info.value)
    assert "bytes of pixel data; expected 2048" in str(info.value)


def test_non_finite_pixels_after_rescale_are_named(acquisition):
    """The last guard: whatever the rescale, a non-finite pixel value is refused."""
    image = next(iter(sort_mdme(acquisition.directory).table.values()))
    assert np.isfinite(read_pixels(image)).all()
    overflowing = dataclasses.replace(image, slope=1e308)  # past the checked range
    with pytest.raises(SynflairError, match=r"pixel\(s\) are not finite \(NaN or inf\) after"):
        read_pixels(overflowing)
