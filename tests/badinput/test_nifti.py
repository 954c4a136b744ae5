"""Bad NIfTI inputs to every command that reads NIfTI: one line naming the file, nothing written.

Each command reads through :func:`synflair.nifti.load`, which verifies the
whole gzip stream (CRC, length) and the data length the header promises.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from badinput_harness import assert_refused

from synflair.nifti import save

AFFINE = np.diag([1.0, 1.0, 3.0, 1.0])
SHAPE = (20, 18, 6)


def _corrupt(path: Path, kind: str) -> str:
    """Damage ``path`` in place as ``kind``; return what the message must say."""
    raw = bytearray(path.read_bytes())
    if kind == "flipped":  # 64 flipped bytes mid-file: decompresses to plausible voxels
        middle = len(raw) // 2
        raw[middle : middle + 64] = bytes(b ^ 0xFF for b in raw[middle : middle + 64])
        path.write_bytes(bytes(raw))
        return "gzip stream"
    if kind == "truncated":  # an interrupted download
        path.write_bytes(bytes(raw[: len(raw) // 2]))
        return "truncated gzip stream"
    if kind == "short-data":  # a complete gzip stream holding too few voxels
        data = gzip.decompress(bytes(raw))
        path.write_bytes(gzip.compress(data[: len(data) - 200]))
        return "truncated NIfTI image"
    if kind == "empty":
        path.write_bytes(b"")
        return "not a gzip file"
    if kind == "text":
        path.write_text("this is not an image\n")
        return "not a gzip file"
    if kind == "not-nifti":  # a gzip stream of something else
        path.write_bytes(gzip.compress(b"\x00" * 1000))
        return "not a NIfTI image"
    if kind == "directory":
        path.unlink()
        path.mkdir()
        return "is a folder"
    if kind == "missing":
        path.unlink()
        return "no such file"
    raise AssertionError(kind)


KINDS = ["flipped", "truncated", "short-data", "empty", "text", "not-nifti", "directory", "missing"]


def _rng_volume(rng, shape=SHAPE, scale=1000.0):
    return (rng.random(shape) * scale).astype(np.float32)


@pytest.fixture()
def subject(tmp_path):
    """Small valid inputs of every kind the commands read."""
    rng = np.random.default_rng(7)
    mask = np.zeros(SHAPE, np.uint8)
    mask[3:17, 3:15, 1:5] = 1
    dseg = np.zeros(SHAPE, np.uint8)
    dseg[3:8][mask[3:8] > 0], dseg[8:12][mask[8:12] > 0], dseg[12:17][mask[12:17] > 0] = 1, 2, 3
    folder = tmp_path / "in"
    paths = {
        "reference": save(_rng_volume(rng), AFFINE, folder / "reference.nii.gz"),
        "image": save(_rng_volume(rng), AFFINE, folder / "image.nii.gz"),
        "mask": save(mask, AFFINE, folder / "mask.nii.gz", dtype=np.uint8),
        "dseg": save(dseg, AFFINE, folder / "dseg.nii.gz", dtype=np.uint8),
        "mdme": save(_rng_volume(rng, (*SHAPE, 8)), AFFINE, folder / "mdme.nii.gz"),
        "flair": save(_rng_volume(rng), AFFINE, folder / "flair.nii.gz"),
        "t1w": save(_rng_volume(rng), AFFINE, folder / "t1w.nii.gz"),
    }
    return paths


def _commands(p: dict[str, Path], out: Path) -> dict[str, tuple[list[str], list[Path]]]:
    """command name -> (argv without the damaged file's role, final outputs)."""
    metrics = out / "metrics.tsv"
    return {
        "metrics": (
            ["metrics", "--subject", "01", "--reference", p["reference"],
             "--image", f"dl={p['image']}", "--mask", p["mask"], "--dseg", p["dseg"],
             "--out", metrics],
            [metrics],
        ),
        "quantify": (
            ["quantify", "--mdme", p["mdme"], "--out", out, "--prefix", "sub-01"],
            [out / "sub-01_T1map.nii.gz", out / "sub-01_desc-intracranial_mask.nii.gz"],
        ),
        "preprocess": (
            ["preprocess", "--flair", p["flair"], "--mdme", p["mdme"],
             "--out", out / "target.nii.gz"],
            [out / "target.nii.gz"],
        ),
        "segment": (
            ["segment", "--t1w", p["t1w"], "--mask", p["mask"], "--out", out,
             "--prefix", "sub-01", "--backend", "ants"],
            [out / "sub-01_dseg.nii.gz"],
        ),
        "register": (
            ["register", "--moving", p["flair"], "--fixed", p["t1w"],
             "--out", out / "reg.nii.gz", "--transform", out / "xfm.json", "--backend", "ants"],
            [out / "reg.nii.gz", out / "xfm.json"],
        ),
    }  # fmt: skip


#: (command, the input it damages)
TARGETS = [
    ("metrics", "reference"),
    ("metrics", "image"),
    ("metrics", "mask"),
    ("metrics", "dseg"),
    ("quantify", "mdme"),
    ("preprocess", "flair"),
    ("preprocess", "mdme"),
    ("segment", "t1w"),
    ("segment", "mask"),
    ("register", "flair"),
    ("register", "t1w"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("command", "role"), TARGETS)
def test_damaged_nifti_is_refused(subject, tmp_path, capsys, command, role, kind):
    out = tmp_path / "out"
    argv, outputs = _commands(subject, out)[command]
    damaged = subject[role]
    expected = _corrupt(damaged, kind)
    inputs = [p for p in subject.values() if p.exists() and p.is_file()]
    assert_refused(argv, capsys, names=[str(damaged), expected], outputs=outputs, inputs=inputs)


@pytest.mark.parametrize(("command", "role"), [("metrics", "image"), ("register", "flair")])
def test_non_finite_voxels_are_refused(subject, tmp_path, capsys, command, role):
    out = tmp_path / "out"
    argv, outputs = _commands(subject, out)[command]
    data = np.full(SHAPE, 100.0, np.float32)
    data[5, 5, 2] = np.nan
    save(data, AFFINE, subject[role])
    assert_refused(argv, capsys, names=[str(subject[role]), "non-finite"], outputs=outputs)


def test_wrong_dimensions_are_refused(subject, tmp_path, capsys):
    out = tmp_path / "out"
    argv, outputs = _commands(subject, out)["quantify"]
    save(np.ones(SHAPE, np.float32), AFFINE, subject["mdme"])  # 3D where 4D is needed
    assert_refused(argv, capsys, names=[str(subject["mdme"]), "4D"], outputs=outputs)


def test_wrong_extension_is_refused(subject, tmp_path, capsys):
    out = tmp_path / "out"
    argv, outputs = _commands(subject, out)["metrics"]
    other = subject["image"].with_name("image.mgz")
    subject["image"].rename(other)
    argv = [a if a != f"dl={subject['image']}" else f"dl={other}" for a in argv]
    assert_refused(argv, capsys, names=[str(other), ".nii or .nii.gz"], outputs=outputs)


@pytest.mark.parametrize(
    ("command", "role"),
    [("metrics", "mask"), ("metrics", "image"), ("preprocess", "mdme"), ("segment", "mask")],
)
def test_an_input_on_another_grid_is_refused_on_one_line(subject, tmp_path, capsys, command, role):
    out = tmp_path / "out"
    argv, outputs = _commands(subject, out)[command]
    data = np.asarray(nib.load(subject[role]).dataobj)
    shifted = AFFINE.copy()
    shifted[:3, 3] += [2.0, 0.0, 0.0]
    save(data, shifted, subject[role], dtype=data.dtype)
    assert_refused(argv, capsys, names=[str(subject[role]), "different affines"], outputs=outputs)
