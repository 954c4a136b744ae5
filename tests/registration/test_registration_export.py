"""The transform as lab tools read it: an ITK file applied by antspyx, a FLIRT matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synflair.cli import main
from synflair.nifti import load_data
from synflair.registration.export import itk_text, read_itk
from synflair.registration.fsl import flirt_to_world

ants = pytest.importorskip("ants")


@pytest.fixture(scope="module")
def registered(pair, tmp_path_factory):
    moving, fixed, _, _ = pair
    out = tmp_path_factory.mktemp("export")
    argv = ["register", "--moving", moving, "--fixed", fixed, "--out", out / "reg.nii.gz"]
    argv += ["--transform", out / "xfm.json", "--itk", out / "xfm.txt"]
    argv += ["--flirt", out / "xfm.mat", "--backend", "ants", "--ants-preset", "fast"]
    assert main([str(a) for a in argv]) == 0
    return out, moving, fixed


def test_antspyx_applies_the_itk_file_as_synflair_resampled(registered):
    out, moving, fixed = registered
    applied = ants.apply_transforms(
        fixed=ants.image_read(str(fixed)),
        moving=ants.image_read(str(moving)),
        transformlist=[str(out / "xfm.txt")],
        interpolator="linear",
    )
    ours, _ = load_data(out / "reg.nii.gz")
    theirs = applied.numpy()
    inside = ours > 0.05 * ours.max()
    assert inside.sum() > 1000
    error = np.abs(theirs[inside] - ours[inside]) / np.abs(ours[inside]).mean()
    assert np.median(error) < 1e-3 and np.percentile(error, 99) < 0.02, np.percentile(error, 99)


def test_itk_and_flirt_files_hold_the_json_matrix(registered):
    out, moving, fixed = registered
    matrix = np.array(json.loads((out / "xfm.json").read_text())["fixed_to_moving_world"])
    assert (out / "xfm.txt").read_text() == itk_text(matrix)
    np.testing.assert_allclose(read_itk(out / "xfm.txt"), matrix, atol=1e-9)
    flirt = np.loadtxt(out / "xfm.mat")
    assert flirt.shape == (4, 4)
    np.testing.assert_allclose(flirt_to_world(flirt, moving, fixed), matrix, atol=1e-6)


def test_a_rotation_reads_back_through_ants(tmp_path):
    """The ITK file's LPS convention against ants' own reader: a known rotation + shift."""
    angle = np.deg2rad(7.0)
    matrix = np.eye(4)
    matrix[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    matrix[:3, 3] = [3.0, -2.0, 1.5]
    (tmp_path / "x.txt").write_text(itk_text(matrix))
    transform = ants.read_transform(str(tmp_path / "x.txt"))
    point_ras = np.array([10.0, 20.0, 30.0])
    lps = point_ras * [-1, -1, 1]
    moved_lps = np.array(transform.apply_to_point(tuple(lps)))
    expected_ras = (matrix @ [*point_ras, 1.0])[:3]
    np.testing.assert_allclose(moved_lps * [-1, -1, 1], expected_ras, atol=1e-9)
