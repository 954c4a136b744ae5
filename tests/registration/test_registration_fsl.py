"""The fsl backend: FLIRT command lines as strings, fslpy matrices, a real run with FSL."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.errors import SynflairError
from synflair.nifti import save
from synflair.registration import backend, register, transform_error
from synflair.registration.backend import Estimation
from synflair.registration.fsl import (
    FlirtSettings,
    applyxfm_interface,
    estimate,
    flirt_interface,
    flirt_to_world,
    world_to_flirt,
)
from synflair.registration.transform import rigid_matrix


@pytest.fixture
def images(tmp_path):
    """A RAS (positive determinant) and a LAS (negative) image with anisotropic voxels."""
    ras = np.diag([2.0, 2.5, 5.0, 1.0])
    ras[:3, 3] = [-90.0, -120.0, -30.0]
    las = np.diag([-3.0, 3.0, 4.0, 1.0])
    las[:3, 3] = [100.0, -110.0, -20.0]
    rng = np.random.default_rng(0)
    moving = save(rng.random((40, 50, 12)), ras, tmp_path / "moving.nii.gz")
    fixed = save(rng.random((30, 36, 14)), las, tmp_path / "fixed.nii.gz")
    mask = save(np.ones((30, 36, 14)), las, tmp_path / "mask.nii.gz", dtype=np.uint8)
    return moving, fixed, mask, (ras, (40, 50, 12)), (las, (30, 36, 14))


def fsl_coordinates(affine, shape):
    """Voxel -> FSL scaled-voxel coordinates, written out from FLIRT's definition.

    Voxels scaled by the voxel size; for a positive-determinant affine the x axis
    is flipped (radiological storage order).
    """
    sizes = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    scaling = np.diag([*sizes, 1.0])
    if np.linalg.det(affine[:3, :3]) > 0:
        scaling[0, 0] = -sizes[0]
        scaling[0, 3] = (shape[0] - 1) * sizes[0]
    return scaling


def test_flirt_command_line_default(images, tmp_path):
    moving, fixed, *_ = images
    interface = flirt_interface(moving, fixed, tmp_path / "x.mat", tmp_path / "x.nii.gz", dof=6)
    assert interface.cmdline == (
        f"flirt -in {moving} -ref {fixed} -out {tmp_path / 'x.nii.gz'} -omat {tmp_path / 'x.mat'} "
        "-bins 256 -cost corratio -dof 6 -interp trilinear "
        "-searchrx -90 90 -searchry -90 90 -searchrz -90 90"
    )


def test_flirt_command_line_affine_with_weight(images, tmp_path):
    moving, fixed, mask, *_ = images
    settings = FlirtSettings(cost="normmi", bins=128, search_deg=20)
    interface = flirt_interface(
        moving,
        fixed,
        tmp_path / "x.mat",
        tmp_path / "x.nii.gz",
        dof=12,
        settings=settings,
        fixed_weight=mask,
    )
    assert interface.cmdline == (
        f"flirt -in {moving} -ref {fixed} -out {tmp_path / 'x.nii.gz'} -omat {tmp_path / 'x.mat'} "
        f"-bins 128 -cost normmi -dof 12 -interp trilinear -refweight {mask} "
        "-searchrx -20 20 -searchry -20 20 -searchrz -20 20"
    )


@pytest.mark.parametrize(
    ("interpolation", "flag"),
    [("linear", "trilinear"), ("nearest", "nearestneighbour"), ("spline", "spline")],
)
def test_applyxfm_command_line(images, tmp_path, interpolation, flag):
    moving, fixed, *_ = images
    matrix = tmp_path / "apply.mat"
    np.savetxt(matrix, np.eye(4))
    out = tmp_path / "applied.nii.gz"
    interface = applyxfm_interface(moving, fixed, matrix, out, interpolation=interpolation)
    assert interface.cmdline == (
        f"flirt -in {moving} -ref {fixed} -out {out} -omat {tmp_path / 'applied.mat'} "
        f"-applyxfm -init {matrix} -interp {flag}"
    )


def test_applyxfm_rejects_unknown_interpolation(images, tmp_path):
    moving, fixed, *_ = images
    with pytest.raises(ValueError, match="interpolation"):
        applyxfm_interface(moving, fixed, moving, tmp_path / "o.nii.gz", interpolation="cubic")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"cost": "mi"}, "cost"), ({"bins": 1}, "bins"), ({"search_deg": 200}, "search_deg")],
)
def test_flirt_settings_are_validated(kwargs, name):
    with pytest.raises(ValueError, match=name):
        FlirtSettings(**kwargs)


def test_fslpy_conversion_matches_flirt_definition(images, center):
    moving, fixed, _, (moving_affine, moving_shape), (fixed_affine, fixed_shape) = images
    truth = rigid_matrix((3.0, -2.0, 4.0), (2.0, -1.0, 3.0), center_mm=center)
    # FLIRT maps moving FSL coordinates to fixed FSL coordinates; world W = inv(M).
    expected = (
        fsl_coordinates(fixed_affine, fixed_shape)
        @ np.linalg.inv(fixed_affine)
        @ np.linalg.inv(truth)
        @ moving_affine
        @ np.linalg.inv(fsl_coordinates(moving_affine, moving_shape))
    )
    np.testing.assert_allclose(world_to_flirt(truth, moving, fixed), expected, atol=1e-5)
    np.testing.assert_allclose(flirt_to_world(expected, moving, fixed), truth, atol=1e-5)


def test_fslpy_identity_between_identical_grids(images):
    moving, *_ = images
    np.testing.assert_allclose(world_to_flirt(np.eye(4), moving, moving), np.eye(4), atol=1e-6)


def test_fsl_backend_without_fsl_is_a_clear_error(images, tmp_path, monkeypatch):
    moving, fixed, *_ = images
    monkeypatch.delenv("FSLDIR", raising=False)
    backend.fsl_version.cache_clear()
    try:
        with pytest.raises(SynflairError, match=r"FSLDIR"):
            estimate(Estimation(moving, fixed, 6, tmp_path))
        with pytest.raises(SynflairError, match=r"--backend ants"):
            register(
                moving,
                fixed,
                tmp_path / "reg.nii.gz",
                backend="fsl",
                out_transform=tmp_path / "xfm.json",
            )
        assert not (tmp_path / "reg.nii.gz").exists()
    finally:
        backend.fsl_version.cache_clear()


@pytest.mark.fsl
@pytest.mark.skipif(backend.fsl_version() is None, reason="needs FSL: $FSLDIR holds no FSL")
def test_flirt_recovers_the_motion(pair, center, tmp_path):
    moving, fixed, truth, _ = pair
    result = register(
        moving,
        fixed,
        tmp_path / "reg.nii.gz",
        backend="fsl",
        dof=6,
        out_transform=tmp_path / "xfm.json",
    )
    rotation, translation = transform_error(result.fixed_to_moving_world, truth, center)
    assert rotation < 0.5
    assert translation < 0.5
