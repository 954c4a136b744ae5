"""``synflair dicom2nifti``."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from synflair.cli import main
from synflair.io.mdme import read_mdme


def test_mdme_real_component_with_options(acquisition, tmp_path):
    out = tmp_path / "sub-01_mdme.nii.gz"
    argv = ["dicom2nifti", "--kind", "mdme", "--dicom", str(acquisition.directory)]
    argv += ["--out", str(out), "--component", "real", "--delay-attribute", "TriggerTime"]
    argv += ["--saturation-angle", "115"]
    assert main(argv) == 0
    data = np.asarray(nib.load(out).dataobj)
    np.testing.assert_allclose(data, read_mdme(acquisition.directory).real)
    meta = json.loads((tmp_path / "sub-01_mdme.json").read_text())
    assert meta["ImageComponent"] == "real" and meta["SaturationFlipAngle"] == 115.0


def test_mdme_default_is_magnitude(acquisition, tmp_path):
    out = tmp_path / "m.nii.gz"
    assert (
        main(
            [
                "dicom2nifti",
                "--kind",
                "mdme",
                "--dicom",
                str(acquisition.directory),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "m.json").read_text())["ImageComponent"] == "magnitude"
    assert np.asarray(nib.load(out).dataobj).min() >= 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "standard", "--component", "real"], "--component apply to --kind mdme only"),
        (["--kind", "standard", "--saturation-angle", "90"], "--saturation-angle apply to"),
        (["--kind", "mdme", "--delay-attribute", "No Such"], "delay_attribute must be"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(acquisition, tmp_path, capsys, extra, message):
    argv = [
        "dicom2nifti",
        "--dicom",
        str(acquisition.directory),
        "--out",
        str(tmp_path / "x.nii.gz"),
    ]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("synflair dicom2nifti: error:") and message in err
    assert len(err.splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_standard_takes_one_folder(acquisition, tmp_path, capsys):
    argv = ["dicom2nifti", "--kind", "standard", "--dicom", str(tmp_path), str(tmp_path)]
    assert main([*argv, "--out", str(tmp_path / "x.nii.gz")]) == 2
    assert "takes one --dicom folder" in capsys.readouterr().err


def test_unsortable_mdme_exits_2(acquisition, mdme_copy, tmp_path, capsys):
    sorted(mdme_copy.iterdir())[0].unlink()
    argv = ["dicom2nifti", "--kind", "mdme", "--dicom", str(mdme_copy)]
    assert main([*argv, "--out", str(tmp_path / "x.nii.gz")]) == 2
    err = capsys.readouterr().err
    assert "missing image(s) (slice 1" in err and len(err.strip().splitlines()) == 1
