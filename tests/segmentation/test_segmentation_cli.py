"""``synflair segment`` on the command line."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from synflair.cli import main
from synflair.segmentation.cli import default_prefix


def segment_cli(*args) -> int:
    return main(["segment", *(str(a) for a in args)])


def test_segment_cli_writes_the_maps_and_the_sidecar(head, tmp_path, dice_of):
    t1w, mask, truth, _ = head
    out = tmp_path / "seg"
    code = segment_cli(
        "--t1w", t1w, "--mask", mask, "--out", out, "--backend", "ants", "--mrf-beta", 0.3
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "sub-01_dseg.json",
        "sub-01_dseg.nii.gz",
        "sub-01_label-CSF_probseg.nii.gz",
        "sub-01_label-GM_probseg.nii.gz",
        "sub-01_label-WM_probseg.nii.gz",
    ]
    labels = np.asarray(nib.load(out / "sub-01_dseg.nii.gz").dataobj)
    assert dice_of(labels == 3, truth == 3) >= 0.85


def test_segment_cli_prefix_option(head, tmp_path):
    t1w, mask, _, _ = head
    code = segment_cli(
        "--t1w", t1w, "--mask", mask, "--out", tmp_path, "--prefix", "sub-ph07", "--backend", "ants"
    )
    assert code == 0
    assert (tmp_path / "sub-ph07_dseg.nii.gz").is_file()


def test_segment_cli_bad_input_exits_2(head, tmp_path, capsys):
    t1w, _, _, _ = head
    missing = tmp_path / "none.nii.gz"
    code = segment_cli(
        "--t1w", t1w, "--mask", missing, "--out", tmp_path / "out", "--backend", "ants"
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("synflair segment: error:")
    assert "none.nii.gz: no such file" in err
    assert not (tmp_path / "out").exists()


def test_segment_cli_bad_mrf_beta_exits_2(head, tmp_path, capsys):
    t1w, mask, _, _ = head
    code = segment_cli(
        "--t1w", t1w, "--mask", mask, "--out", tmp_path, "--backend", "ants", "--mrf-beta", 3
    )
    assert code == 2
    assert "--mrf-beta: mrf_beta must be within 0-1" in capsys.readouterr().err


def test_default_prefix():
    assert default_prefix(Path("d/sub-ph01_desc-synthetic_T1w.nii.gz")) == "sub-ph01"
    assert default_prefix(Path("t1w.nii.gz")) == "t1w"
