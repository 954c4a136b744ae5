"""The DICOM writer: decoded values, geometry, labels, determinism and bad input."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from synflair.geometry import stack_affine
from synflair.io.dicom_write import (
    GE_PRIVATE_CREATOR,
    PatientInfo,
    uids_for,
    write_magnitude_dicom,
    write_mdme_dicom,
)
from synflair.physics import MDME_PAPER, MDMEProtocol

PATIENT = PatientInfo("Doe^Jane", "PID-0042", "19700101", "ACC77", "Hospital X")
AFFINE = stack_affine([-110.0, -95.0, -20.0], [1, 0, 0, 0, 1, 0], [7.5, 6.0], 5.0)


def _signal(rng, shape=(8, 6, 3)):
    return rng.normal(size=(*shape, 8)) + 1j * rng.normal(size=(*shape, 8))


def _decode(ds):
    return ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def test_mdme_files_decode_to_the_signal_with_labels(tmp_path):
    rng = np.random.default_rng(1)
    signal = _signal(rng)
    paths = write_mdme_dicom(
        signal,
        AFFINE,
        tmp_path,
        protocol=MDME_PAPER,
        patient=PATIENT,
        uid_seed="s",
        slice_thickness=4,
    )
    assert len(paths) == 3 * 8 * 2
    slope = None
    for path in paths:
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.SOPClassUID == pydicom.uid.MRImageStorage
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.pixel_array.dtype == np.int16
        slope = float(ds.RescaleSlope) if slope is None else slope
        assert float(ds.RescaleSlope) == slope  # one slope per series
        code = ds.get_private_item(0x0043, 0x2F, GE_PRIVATE_CREATOR).value
        word = ds.ImageType[2]
        assert (code, word) in {(2, "REAL"), (3, "IMAGINARY")}
        te, td = float(ds.EchoTime), float(ds.TriggerTime)
        v = [i for i in range(8) if MDME_PAPER.volume_te[i] == te and MDME_PAPER.volume_td[i] == td]
        assert len(v) == 1
        k = round((float(ds.ImagePositionPatient[2]) + 20.0) / 5.0)
        part = np.real if code == 2 else np.imag
        expected = part(signal[:, :, k, v[0]]).T
        np.testing.assert_allclose(_decode(ds), expected, atol=slope / 2 * (1 + 1e-9))
        assert float(ds.RepetitionTime) == 4000 and float(ds.FlipAngle) == 90
        assert [float(x) for x in ds.PixelSpacing] == [7.5, 6.0]  # (row, column) spacing
        assert float(ds.SliceThickness) == 4 and float(ds.SpacingBetweenSlices) == 5
        assert str(ds.PatientName) == "Doe^Jane" and ds.PatientID == "PID-0042"
        assert ds.PatientBirthDate == "19700101" and ds.AccessionNumber == "ACC77"
        assert ds.InstitutionName == "Hospital X"
        assert ds.StudyInstanceUID == uids_for("s")["StudyInstanceUID"]
    # the dynamic range is used: the largest |Re| or |Im| maps to 32767
    max_abs = max(np.abs(signal.real).max(), np.abs(signal.imag).max())
    assert abs(max_abs / slope - 32767) < 1


def test_writer_is_deterministic_and_uids_are_distinct(tmp_path):
    rng = np.random.default_rng(2)
    signal = _signal(rng, (4, 4, 2))
    kwargs = dict(protocol=MDME_PAPER, patient=PATIENT, uid_seed="seed", slice_thickness=4)
    a = write_mdme_dicom(signal, AFFINE, tmp_path / "a", **kwargs)
    b = write_mdme_dicom(signal, AFFINE, tmp_path / "b", **kwargs)
    assert [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))
    uids = {pydicom.dcmread(p).SOPInstanceUID for p in a}
    assert len(uids) == len(a)
    c = write_mdme_dicom(signal, AFFINE, tmp_path / "c", **{**kwargs, "uid_seed": "other"})
    assert pydicom.dcmread(c[0]).StudyInstanceUID != pydicom.dcmread(a[0]).StudyInstanceUID
    assert uids_for("x") == uids_for("x") and uids_for("x") != uids_for("y")


def test_magnitude_series(tmp_path):
    rng = np.random.default_rng(3)
    volume = rng.uniform(0, 500, (8, 6, 3))
    study = uids_for("mdme-study")
    paths = write_magnitude_dicom(
        volume,
        AFFINE,
        tmp_path,
        patient=PATIENT,
        uid_seed="flair",
        slice_thickness=4,
        tr=9000,
        te=124,
        ti=2472,
        study_uid=study["StudyInstanceUID"],
        frame_of_reference_uid=study["FrameOfReferenceUID"],
    )
    assert len(paths) == 3
    for k, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        assert ds.pixel_array.dtype == np.uint16
        slope = float(ds.RescaleSlope)
        np.testing.assert_allclose(_decode(ds), volume[:, :, k].T, atol=slope / 2 * (1 + 1e-9))
        assert list(ds.ScanningSequence) == ["SE", "IR"]
        assert float(ds.InversionTime) == 2472 and float(ds.EchoTime) == 124
        assert ds.StudyInstanceUID == study["StudyInstanceUID"]
        assert ds.FrameOfReferenceUID == study["FrameOfReferenceUID"]
        np.testing.assert_allclose(
            [float(x) for x in ds.ImagePositionPatient], [-110.0, -95.0, -20.0 + 5 * k]
        )
    assert abs(volume.max() / slope - 65535) < 1
    ds = pydicom.dcmread(
        write_magnitude_dicom(
            volume,
            AFFINE,
            tmp_path / "se",
            patient=PATIENT,
            uid_seed="t1",
            slice_thickness=4,
            tr=500,
            te=10,
        )[0]
    )
    assert ds.ScanningSequence == "SE" and "InversionTime" not in ds


def test_all_zero_series_is_valid(tmp_path):
    paths = write_magnitude_dicom(
        np.zeros((4, 4, 1)),
        AFFINE,
        tmp_path,
        patient=PATIENT,
        uid_seed="z",
        slice_thickness=4,
        tr=500,
        te=10,
    )
    ds = pydicom.dcmread(paths[0])
    assert float(ds.RescaleSlope) == 1.0 and not ds.pixel_array.any()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"signal": np.zeros((4, 4, 2, 7), complex)}, "shape"),
        ({"signal": np.full((4, 4, 2, 8), np.nan, complex)}, "finite"),
        ({"affine": np.eye(3)}, "4x4"),
        ({"slice_thickness": 0}, "slice_thickness"),
        ({"protocol": "paper"}, "MDMEProtocol"),
        ({"patient": ("Doe", "1", "")}, "PatientInfo"),
    ],
)
def test_mdme_bad_input(tmp_path, change, message):
    kwargs = dict(
        signal=np.zeros((4, 4, 2, 8), complex),
        affine=AFFINE,
        protocol=MDME_PAPER,
        patient=PATIENT,
        uid_seed="s",
        slice_thickness=4,
    )
    kwargs.update(change)
    signal, affine = kwargs.pop("signal"), kwargs.pop("affine")
    with pytest.raises(ValueError, match=message):
        write_mdme_dicom(signal, affine, tmp_path, **kwargs)
    assert not list(tmp_path.iterdir())


def test_tilted_or_sheared_affine_rejected(tmp_path):
    tilted = AFFINE.copy()
    tilted[1, 2] = 1.0
    with pytest.raises(ValueError, match="slice normal"):
        write_mdme_dicom(
            np.zeros((4, 4, 2, 8)),
            tilted,
            tmp_path,
            protocol=MDME_PAPER,
            patient=PATIENT,
            uid_seed="s",
            slice_thickness=4,
        )


def test_patient_info_validation():
    with pytest.raises(ValueError, match="birth_date"):
        PatientInfo("A^B", "1", "1970-01-01")
    with pytest.raises(ValueError, match="accession"):
        PatientInfo("A^B", "1", "", accession="X" * 17)
    with pytest.raises(ValueError, match="name"):
        PatientInfo(3, "1", "")


def test_other_protocol_sizes(tmp_path):
    protocol = MDMEProtocol(te=(20.0,), td=(100.0, 500.0, 2000.0), tr=3000.0)
    paths = write_mdme_dicom(
        np.ones((4, 4, 1, 3)),
        AFFINE,
        tmp_path,
        protocol=protocol,
        patient=PATIENT,
        uid_seed="s",
        slice_thickness=4,
    )
    assert sorted(float(pydicom.dcmread(p).TriggerTime) for p in paths[::2]) == [100, 500, 2000]
