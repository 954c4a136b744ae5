"""Bad inputs to ``synflair lesions`` (issue 13): refused with one line, nothing written.

A small synthetic head (a ball: WM core, GM rim, CSF shell) with its tissue maps; each case
changes one input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from badinput_harness import assert_refused

from synflair.nifti import save

SHAPE = (24, 24, 12)
AFFINE = np.diag([2.0, 2.0, 4.0, 1.0])


@pytest.fixture
def head(tmp_path) -> dict[str, Path]:
    grid = np.indices(SHAPE).astype(float)
    r = np.sqrt(((grid[0] - 11.5) * 2) ** 2 + ((grid[1] - 11.5) * 2) ** 2
                + ((grid[2] - 5.5) * 4) ** 2)  # fmt: skip
    wm, gm, csf = r < 12, (r >= 12) & (r < 16), (r >= 16) & (r < 20)
    rng = np.random.default_rng(0)
    flair = (wm * 100.0 + gm * 110.0 + csf * 20.0) + rng.normal(0, 3, SHAPE) * (r < 20)
    t1 = wm * 220.0 + gm * 150.0 + csf * 40.0
    paths = {"flair": save(flair.astype(np.float32), AFFINE, tmp_path / "flair.nii.gz"),
             "t1": save(t1.astype(np.float32), AFFINE, tmp_path / "t1.nii.gz"),
             "mask": save((r < 20).astype(np.uint8), AFFINE, tmp_path / "mask.nii.gz")}  # fmt: skip
    for name, tissue in (("gm", gm), ("wm", wm), ("csf", csf)):
        paths[name] = save(tissue.astype(np.float32), AFFINE, tmp_path / f"{name}.nii.gz")
    return paths


def _maps(head):
    return ["--mask", str(head["mask"]), "--gm", str(head["gm"]), "--wm", str(head["wm"]),
            "--csf", str(head["csf"])]  # fmt: skip


def _outputs(tmp_path):
    out = tmp_path / "out" / "sub_lesions.nii.gz"
    out.parent.mkdir()
    return out, [out, out.with_name("sub_lesions_belief.nii.gz"), out.with_name("sub_lesions.json")]


def test_the_valid_head_is_segmented(head, tmp_path):
    from synflair.cli import main

    out, outputs = _outputs(tmp_path)
    assert main(["lesions", "--flair", str(head["flair"]), *_maps(head), "--out", str(out)]) == 0
    assert all(p.exists() for p in outputs)


def test_t1_on_another_grid(head, tmp_path, capsys):
    data = np.zeros((*SHAPE[:2], SHAPE[2] + 1), np.float32)
    other = save(data, AFFINE, tmp_path / "t1_other.nii.gz")
    out, outputs = _outputs(tmp_path)
    argv = ["lesions", "--flair", str(head["flair"]), "--t1", str(other), "--out", str(out)]
    names = ["t1_other.nii.gz", "flair.nii.gz", "expected the same grid"]
    assert_refused(argv, capsys, names=names, outputs=outputs, inputs=[head["flair"], other])


def test_empty_brain_mask(head, tmp_path, capsys):
    empty = save(np.zeros(SHAPE, np.uint8), AFFINE, tmp_path / "empty.nii.gz")
    out, outputs = _outputs(tmp_path)
    argv = ["lesions", "--flair", str(head["flair"]), "--t1", str(head["t1"]), "--mask", str(empty),
            "--out", str(out)]  # fmt: skip
    assert_refused(argv, capsys, names=["empty.nii.gz", "brain mask is empty"], outputs=outputs,
                   inputs=[head["flair"], empty])  # fmt: skip


@pytest.mark.parametrize("kind", ["uniform", "noise"])
def test_non_brain_flair(head, tmp_path, capsys, kind):
    rng = np.random.default_rng(1)
    data = np.full(SHAPE, 100.0) if kind == "uniform" else rng.normal(100, 10, SHAPE)
    flair = save(data.astype(np.float32), AFFINE, tmp_path / f"{kind}.nii.gz")
    out, outputs = _outputs(tmp_path)
    assert_refused(["lesions", "--flair", str(flair), *_maps(head), "--out", str(out)], capsys,
                   names=[f"{kind}.nii.gz", "no plausible", "expected a brain FLAIR"],
                   outputs=outputs, inputs=[flair])  # fmt: skip


def test_incomplete_tissue_maps_and_no_t1(head, tmp_path, capsys):
    out, outputs = _outputs(tmp_path)
    argv = ["lesions", "--flair", str(head["flair"]), "--gm", str(head["gm"]), "--out", str(out)]
    assert_refused(argv, capsys, names=["--wm", "--csf", "go together"], outputs=outputs)
    argv = ["lesions", "--flair", str(head["flair"]), "--out", str(out)]
    assert_refused(argv, capsys, names=["--t1", "--gm"], outputs=outputs)
