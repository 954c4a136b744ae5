"""Privacy: no patient identifier in any output, and the guard that enforces it."""

from __future__ import annotations

import gzip
import json
import shutil

import nibabel as nib
import numpy as np
import pydicom
import pytest
from dicom_cases import IDENTIFIERS, PATIENT, write_flair

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
    with pytest.raises(SynflairError, match="patient identifier") as info:
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
        "SeriesDescription": "FLAIR",
    }
    assert scrub_sidecar(meta) == {"EchoTime": 0.1, "SeriesDescription": "FLAIR"}
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
    with pytest.raises(SynflairError, match=r"a\.json: 1 patient identifier"):
        check_no_identifiers([text], IDENTIFIERS)
    # voxel data that happen to spell an identifier: found in full, not in header-only mode
    data = np.frombuffer(b"PIDX93751" * 8, dtype=np.uint8).reshape(72, 1, 1)
    image = nib.Nifti1Image(data, np.eye(4))
    nib.save(image, tmp_path / "b.nii.gz")
    assert find_identifiers(tmp_path / "b.nii.gz", IDENTIFIERS) == ["PIDX93751"]
    check_no_identifiers([tmp_path / "b.nii.gz"], IDENTIFIERS, header_only=True)
    image.header["descrip"] = b"PIDX93751"
    nib.save(image, tmp_path / "c.nii")
    with pytest.raises(SynflairError, match=r"c\.nii: 1 patient identifier"):
        check_no_identifiers([tmp_path / "c.nii"], IDENTIFIERS, header_only=True)
    assert PATIENT.patient_id == "PIDX93751"
