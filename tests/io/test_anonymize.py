"""Privacy: no patient identifier in any output, and the guard that enforces it."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from dicom_cases import IDENTIFIERS, PATIENT, edit, write_flair

from synflair.cli import main
from synflair.errors import SynflairError
from synflair.io import dcm2niix as dcm2niix_module
from synflair.io.anonymize import (
    check_no_identifiers,
    find_identifiers,
    identifiers_of,
    scrub_sidecar,
)
from synflair.io.mdme import mdme_to_nifti


def _bytes(path):
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


@pytest.mark.skipif(shutil.which("dcm2niix") is None, reason="needs dcm2niix")
def test_no_identifier_in_any_output(acquisition, tmp_path):
    write_flair(tmp_path / "flair")
    # the identifiers are in the source DICOM (so the search below can find them)
    source = acquisition.paths[0].read_bytes() + next((tmp_path / "flair").iterdir()).read_bytes()
    for identifier in IDENTIFIERS:
        assert identifier.encode() in source
    out = tmp_path / "out"
    mdme_to_nifti(acquisition.directory, out / "mdme_magnitude.nii.gz")
    mdme_to_nifti(acquisition.directory, out / "mdme_real.nii", component="real")
    dcm2niix_module.standard_to_nifti(tmp_path / "flair", out / "flair.nii.gz")
    assert (
        main(
            [
                "dicom2nifti",
                "--kind",
                "standard",
                "--dicom",
                str(tmp_path / "flair"),
                "--out",
                str(out / "cli_flair.nii.gz"),
            ]
        )
        == 0
    )
    outputs = sorted(out.iterdir())
    assert len(outputs) == 8
    for path in outputs:
        content = _bytes(path).lower()
        for identifier in IDENTIFIERS:
            assert identifier.lower().encode() not in content, (path, identifier)
        if ".nii" in path.name:
            header = nib.load(path).header
            for field in ("descrip", "aux_file", "db_name", "intent_name"):
                assert header[field].item() == b"", (path, field)
            assert len(header.extensions) == 0
        else:
            meta = json.loads(path.read_text())
            assert not [key for key in meta if key.startswith("Patient") or "Institution" in key]


@pytest.mark.skipif(shutil.which("dcm2niix") is None, reason="needs dcm2niix")
def test_guard_refuses_to_publish_a_leak(tmp_path, monkeypatch):
    """With the sidecar scrub disabled, dcm2niix's InstitutionName would leak: refused."""
    write_flair(tmp_path / "flair")
    monkeypatch.setattr(dcm2niix_module, "scrub_sidecar", dict)
    with pytest.raises(SynflairError, match="patient or site identifier") as info:
        dcm2niix_module.standard_to_nifti(tmp_path / "flair", tmp_path / "x.nii.gz")
    assert str(tmp_path / "x.json") in str(info.value)
    assert not any(i.lower() in str(info.value).lower() for i in IDENTIFIERS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flair"]


def test_scrub_sidecar():
    meta = {
        "PatientName": "X",
        "PatientBirthDate": "1",
        "PatientSex": "F",
        "AccessionNumber": "A",
        "InstitutionName": "I",
        "InstitutionAddress": "street",
        "AcquisitionDateTime": "2020",
        "StudyInstanceUID": "1.2",
        "EchoTime": 0.1,
        "RepetitionTime": 9.0,
        "InversionTime": 2.5,
        "SeriesDescription": "FLAIR",
        "ProtocolName": "brain FLAIR",
        "StationName": "MRC40721",
        "DeviceSerialNumber": "0000000847",
        "AcquisitionTime": "14:23:45.120000",
        "ContentTime": "142345.12",
        "ScanTimeOfDay": "7:05:00",
        "MagneticFieldStrength": 3,
    }
    assert scrub_sidecar(meta) == {
        "EchoTime": 0.1,
        "RepetitionTime": 9.0,
        "InversionTime": 2.5,
        "MagneticFieldStrength": 3,
    }
    assert "PatientName" in meta  # a copy
    with pytest.raises(ValueError, match="mapping"):
        scrub_sidecar([("a", 1)])


def test_identifiers_of(acquisition):
    found = identifiers_of(pydicom.dcmread(acquisition.paths[0], stop_before_pixels=True))
    assert found == {
        "Zyxwort^Quilla",
        "Zyxwort Quilla",
        "Zyxwort",
        "Quilla",
        "PIDX93751",
        "19580317",
        "1958-03-17",
        "ACCQ48261",
        "Glimmerdale Clinic",
    }
    short = pydicom.Dataset()
    short.PatientName, short.PatientID = "Li^Bo", "123"
    assert identifiers_of(short) == {"Li^Bo", "Li Bo"}  # 2- and 3-character ones skipped


def test_find_and_check_identifiers(tmp_path):
    text = tmp_path / "a.json"
    text.write_text(json.dumps({"Note": "seen at glimmerdale clinic"}))
    assert find_identifiers(text, IDENTIFIERS) == ["Glimmerdale Clinic"]
    with pytest.raises(SynflairError, match=r"a\.json: 1 patient or site identifier"):
        check_no_identifiers([text], IDENTIFIERS)
    # voxel data that happen to spell an identifier: found in full, not in header-only mode
    data = np.frombuffer(b"PIDX93751" * 8, dtype=np.uint8).reshape(72, 1, 1)
    image = nib.Nifti1Image(data, np.eye(4))
    nib.save(image, tmp_path / "b.nii.gz")
    assert find_identifiers(tmp_path / "b.nii.gz", IDENTIFIERS) == ["PIDX93751"]
    check_no_identifiers([tmp_path / "b.nii.gz"], IDENTIFIERS, header_only=True)
    image.header["descrip"] = b"PIDX93751"
    nib.save(image, tmp_path / "c.nii")
    with pytest.raises(SynflairError, match=r"c\.nii: 1 patient or site identifier"):
        check_no_identifiers([tmp_path / "c.nii"], IDENTIFIERS, header_only=True)
    assert PATIENT.patient_id == "PIDX93751"


def test_values_not_keys_are_compared(tmp_path):
    """Issue 11.12: PatientName "dicom" matched the key ImageOrientationPatientDICOM."""
    sidecar = tmp_path / "s.json"
    sidecar.write_text(
        json.dumps(
            {
                "ImageOrientationPatientDICOM": [1, 0, 0, 0, 1, 0],
                "Sub01": 1958,
                "AcquisitionMatrixPE": 1958,
                "Note": "Zyxwortian sequence",
            }
        )
    )
    assert find_identifiers(sidecar, ["Sub^01", "1958", "Zyxwort", "Patient"]) == []
    sidecar.write_text(json.dumps({"Note": ["seen: sub-01", "ZYXWORT, Q."]}))
    assert find_identifiers(sidecar, ["Sub^01", "Zyxwort", "dicom"]) == ["Sub^01", "Zyxwort"]


def _flair_with(directory, **attributes):
    _, paths = write_flair(directory)
    for path in paths:
        edit(path, lambda ds: [setattr(ds, k, v) for k, v in attributes.items()])
    return paths


SITE = {
    "StationName": "MRC40721",
    "DeviceSerialNumber": "0000000847",
    "InstitutionAddress": "12 Quillon Road",
    "InstitutionalDepartmentName": "Neuroradiology Brellwick",
    "OperatorsName": "Tech^Vashti",
    "PerformingPhysicianName": "Dr^Orlander",
    "ReferringPhysicianName": "Dr^Pemberlyn",
}


@pytest.mark.skipif(shutil.which("dcm2niix") is None, reason="needs dcm2niix")
@pytest.mark.parametrize(
    ("name", "patient_id"),
    [
        ("dicom", "dicom"),
        ("anonymous", "anonymous"),
        ("test", "test"),
        ("01", "01"),
        ("Sub^01", "Sub^01"),
    ],
)
def test_anonymized_series_convert_and_site_identifiers_are_dropped(
    tmp_path, capsys, name, patient_id
):
    """Common anonymized names are no leak; station, serial, department never reach a sidecar."""
    _flair_with(
        tmp_path / "flair", PatientName=name, PatientID=patient_id, Manufacturer="GE", **SITE
    )
    out = tmp_path / "out" / "flair.nii.gz"
    argv = ["dicom2nifti", "--kind", "standard", "--dicom", str(tmp_path / "flair")]
    assert main([*argv, "--out", str(out)]) == 0, capsys.readouterr().err
    text = (tmp_path / "out" / "flair.json").read_text()
    meta = json.loads(text)
    assert "ImageOrientationPatientDICOM" in meta  # the key that used to be taken for "dicom"
    for key, value in SITE.items():
        assert key not in meta
        for word in value.replace("^", " ").split():
            if len(word) >= 4:
                assert word.lower() not in text.lower(), (key, word)
    header = _bytes(out)[:352].lower()
    for value in SITE.values():
        assert value.split("^")[-1].lower().encode() not in header


DATES = {
    "StudyDate": "20230914",
    "SeriesDate": "20230914",
    "AcquisitionDate": "20230914",
    "ContentDate": "20230915",
    "StudyTime": "081512.250",
    "SeriesTime": "083307",
    "AcquisitionTime": "083411.5425",
    "ContentTime": "090158",
    "AcquisitionDateTime": "20230914083411.5425",
    "InstanceCreationDate": "20230915",
    "InstanceCreationTime": "091733",
}
#: Every form a date or time of DATES could take in an output (DICOM, ISO, dcm2niix).
DATE_FORMS = (
    "20230914", "2023-09-14", "20230915", "2023-09-15", "081512", "08:15:12", "083307",
    "08:33:07", "083411", "08:34:11", "090158", "09:01:58", "091733", "09:17:33",
)  # fmt: skip


@pytest.mark.skipif(shutil.which("dcm2niix") is None, reason="needs dcm2niix")
def test_no_date_or_time_of_the_source_in_any_output(acquisition, tmp_path, capsys, caplog):
    """Issue 11.11: PS3.15 basic profile dates and times appear in no sidecar, header or log."""
    caplog.set_level("DEBUG")
    _flair_with(tmp_path / "flair", **DATES)
    mdme = Path(shutil.copytree(acquisition.directory, tmp_path / "mdme"))
    for path in sorted(mdme.iterdir()):
        edit(path, lambda ds: [setattr(ds, k, v) for k, v in DATES.items()])
    out = tmp_path / "out"
    runs = [
        ["--kind", "standard", "--dicom", tmp_path / "flair", "--out", out / "flair.nii.gz"],
        ["--kind", "mdme", "--dicom", mdme, "--out", out / "mdme.nii.gz"],
        ["--kind", "mdme", "--dicom", mdme, "--out", out / "real.nii", "--component", "real"],
    ]
    printed = ""
    for run in runs:
        assert main(["dicom2nifti", *map(str, run)]) == 0
        captured = capsys.readouterr()
        printed += captured.out + captured.err
    printed += caplog.text
    outputs = sorted(out.iterdir())
    assert len(outputs) == 6
    for path in outputs:
        if path.suffix == ".json":
            content = path.read_bytes()
            meta = json.loads(content)
            durations = ("EchoTime", "RepetitionTime", "InversionTime", "SaturationDelayTime")
            clock = [k for k in meta if k.endswith("Time") and k not in durations]
            assert not [k for k in meta if "Date" in k] and not clock, list(meta)
        else:
            image = nib.load(path)
            content = _bytes(path)[: int(image.header["vox_offset"]) or 352]
            for field in ("descrip", "aux_file", "db_name", "intent_name"):
                assert image.header[field].item() == b"", (path, field)
        for form in DATE_FORMS:
            assert form.encode() not in content, (path, form)
    for form in DATE_FORMS:
        assert form not in printed, form


def test_station_named_like_the_scanner_model_is_no_leak(tmp_path, capsys):
    """StationName "MR750" is dropped; the published model name "DISCOVERY MR750" is no leak."""
    if shutil.which("dcm2niix") is None:
        pytest.skip("needs dcm2niix")
    _flair_with(
        tmp_path / "flair",
        Manufacturer="GE MEDICAL SYSTEMS",
        ManufacturerModelName="DISCOVERY MR750",
        StationName="MR750",
        PatientName="dicom",
        PatientID="dicom",
    )
    out = tmp_path / "flair.nii.gz"
    assert main(["dicom2nifti", "--kind", "standard", "--dicom", str(tmp_path / "flair"),
                 "--out", str(out)]) == 0, capsys.readouterr().err  # fmt: skip
    meta = json.loads((tmp_path / "flair.json").read_text())
    assert meta["ManufacturersModelName"] == "DISCOVERY MR750" and "StationName" not in meta
    ds = pydicom.dcmread(next((tmp_path / "flair").iterdir()), stop_before_pixels=True)
    assert "MR750" not in identifiers_of(ds) and "dicom" not in identifiers_of(ds)
