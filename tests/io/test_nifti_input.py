"""NIfTI inputs: the MDME NIfTI + sidecar and a FLAIR NIfTI are checked and copied."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from dicom_cases import write_flair

from synflair.cli import main
from synflair.io.nifti_input import import_flair_nifti, import_mdme_nifti, is_nifti


@pytest.fixture(scope="module")
def converted(acquisition, tmp_path_factory) -> dict[str, Path]:
    """The acquisition and a FLAIR converted by synflair dicom2nifti (as a user would)."""
    root = tmp_path_factory.mktemp("nifti")
    write_flair(root / "flair_dicom")
    mdme, flair = root / "mdme.nii.gz", root / "FLAIR.nii.gz"
    assert main(["dicom2nifti", "--kind", "mdme", "--dicom", str(acquisition.directory),
                 "--out", str(mdme)]) == 0  # fmt: skip
    assert main(["dicom2nifti", "--kind", "standard", "--dicom", str(root / "flair_dicom"),
                 "--out", str(flair)]) == 0  # fmt: skip
    return {"mdme": mdme, "flair": flair}


def test_is_nifti():
    assert is_nifti("a/b_mdme.nii.gz") and is_nifti("x.nii")
    assert not is_nifti("dicom/mdme") and not is_nifti("x.nii.gz.d/")


def test_mdme_nifti_round_trip(converted, tmp_path):
    out = import_mdme_nifti(
        converted["mdme"], tmp_path / "sub-01_mdme.nii.gz", component="magnitude"
    )
    a, b = nib.load(converted["mdme"]), nib.load(out)
    assert np.array_equal(np.asarray(a.dataobj), np.asarray(b.dataobj))
    assert np.array_equal(a.affine, b.affine)
    source = json.loads(converted["mdme"].with_suffix("").with_suffix(".json").read_text())
    copied = json.loads((tmp_path / "sub-01_mdme.json").read_text())
    assert copied.pop("Sources") == ["mdme.nii.gz"]
    assert copied == source


def test_flair_nifti_keeps_its_type_and_drops_identifying_keys(converted, tmp_path):
    sidecar = converted["flair"].parent / "FLAIR.json"
    meta = json.loads(sidecar.read_text())
    mine = tmp_path / "in"
    mine.mkdir()
    image = nib.load(converted["flair"])
    nib.save(image, mine / "flair.nii.gz")
    (mine / "flair.json").write_text(json.dumps({**meta, "PatientName": "Zyxwort^Quilla"}))
    out = import_flair_nifti(mine / "flair.nii.gz", tmp_path / "FLAIR.nii.gz")
    copied = nib.load(out)
    assert copied.get_data_dtype() == image.get_data_dtype()
    assert np.array_equal(np.asarray(copied.dataobj), np.asarray(image.dataobj))
    written = json.loads((tmp_path / "FLAIR.json").read_text())
    assert "PatientName" not in written and written["Sources"] == ["flair.nii.gz"]
    assert written["InversionTime"] == meta["InversionTime"]


def test_flair_with_one_volume_in_4d_and_without_sidecar(converted, tmp_path):
    image = nib.load(converted["flair"])
    data = np.asarray(image.dataobj)[..., None]
    nib.save(nib.Nifti1Image(data, image.affine), tmp_path / "f.nii")
    out = import_flair_nifti(tmp_path / "f.nii", tmp_path / "FLAIR.nii.gz")
    assert nib.load(out).shape == image.shape
    assert json.loads((tmp_path / "FLAIR.json").read_text()) == {"Sources": ["f.nii"]}


def test_cli_nifti_source(converted, tmp_path):
    out = tmp_path / "x.nii.gz"
    assert main(["dicom2nifti", "--kind", "mdme", "--nifti", str(converted["mdme"]),
                 "--component", "magnitude", "--out", str(out)]) == 0  # fmt: skip
    assert nib.load(out).shape == (32, 32, 3, 8)
