"""``synflair register`` on the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

from synflair.cli import main
from synflair.nifti import save
from synflair.registration import transform_error


def test_register_cli_writes_image_transform_and_applied_masks(pair, center, tmp_path):
    moving, fixed, truth, _ = pair
    moving_image = nib.load(moving)
    lesion = (np.asarray(moving_image.dataobj) > 70).astype(np.uint8)
    lesion_path = save(lesion, moving_image.affine, tmp_path / "lesion.nii.gz", dtype=np.uint8)
    code = main(
        [
            "register",
            "--moving",
            str(moving),
            "--fixed",
            str(fixed),
            "--out",
            str(tmp_path / "reg.nii.gz"),
            "--transform",
            str(tmp_path / "xfm.json"),
            "--backend",
            "ants",
            "--ants-preset",
            "fast",
            "--apply-to",
            str(lesion_path),
            str(tmp_path / "lesion_reg.nii.gz"),
            "--apply-to",
            str(moving),
            str(tmp_path / "again.nii.gz"),
        ]
    )
    assert code == 0
    document = json.loads((tmp_path / "xfm.json").read_text())
    assert document["backend"] == "ants"
    assert document["dof"] == 6
    rotation, translation = transform_error(document["fixed_to_moving_world"], truth, center)
    assert rotation < 0.5
    assert translation < 0.5
    lesion_reg = nib.load(tmp_path / "lesion_reg.nii.gz")
    assert lesion_reg.get_data_dtype() == np.uint8
    assert set(np.unique(np.asarray(lesion_reg.dataobj))) == {0, 1}
    # --apply-to of the moving image itself reproduces the registered image.
    np.testing.assert_allclose(
        nib.load(tmp_path / "again.nii.gz").get_fdata(),
        nib.load(tmp_path / "reg.nii.gz").get_fdata(),
        atol=1e-4,
    )


def test_register_cli_bad_input_exits_2_with_one_line(pair, tmp_path, capsys):
    _, fixed, _, _ = pair
    code = main(
        [
            "register",
            "--moving",
            str(tmp_path / "missing.nii.gz"),
            "--fixed",
            str(fixed),
            "--out",
            str(tmp_path / "reg.nii.gz"),
            "--transform",
            str(tmp_path / "xfm.json"),
            "--backend",
            "ants",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("synflair register: error:")
    assert "missing.nii.gz: no such file" in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "reg.nii.gz").exists()


def test_register_cli_rejects_bad_dof(pair, tmp_path):
    moving, fixed, _, _ = pair
    with pytest.raises(SystemExit) as info:
        main(
            [
                *("register", "--moving", str(moving), "--fixed", str(fixed)),
                *("--out", "o.nii.gz", "--transform", "x.json", "--dof", "9"),
            ]
        )
    assert info.value.code == 2


@pytest.mark.slow
def test_single_thread_runs_are_bitwise_identical(pair, tmp_path):
    moving, fixed, _, _ = pair
    env = {**os.environ, "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": "1"}
    outputs = []
    for run in range(2):
        out = tmp_path / f"run{run}"
        command = [
            sys.executable,
            "-c",
            "import sys; from synflair.cli import main; sys.exit(main(sys.argv[1:]))",
            "register",
            "--moving",
            str(moving),
            "--fixed",
            str(fixed),
            "--out",
            str(out / "reg.nii.gz"),
            "--transform",
            str(out / "xfm.json"),
            "--backend",
            "ants",
            "--ants-preset",
            "fast",
        ]
        subprocess.run(command, env=env, check=True, capture_output=True)
        outputs.append((out / "xfm.json").read_bytes())
    assert outputs[0] == outputs[1]
