"""The ants backend: ITK <-> RAS conventions and resampling, checked against independent code."""

from __future__ import annotations

import ants
import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from synflair.nifti import save
from synflair.registration.ants import (
    ANTS_PRESETS,
    AntsSettings,
    itk_to_world,
    resample,
    world_to_itk,
)
from synflair.registration.backend import Resampling
from synflair.registration.transform import rigid_matrix


def test_itk_round_trip():
    matrix = rigid_matrix((4.0, -3.0, 2.0), (1.0, 2.0, -3.0), center_mm=(5.0, 6.0, 7.0))
    np.testing.assert_allclose(itk_to_world(*world_to_itk(matrix)), matrix, atol=1e-12)


def test_itk_centre_is_honoured_and_matches_ants_point_mapping():
    rng = np.random.default_rng(1)
    linear = rigid_matrix((5.0, 3.0, -4.0))[:3, :3]
    parameters = np.concatenate([linear.ravel(), [1.0, -2.0, 3.0]])
    center = np.array([10.0, 20.0, -5.0])
    tx = ants.create_ants_transform(
        transform_type="AffineTransform",
        precision="double",
        dimension=3,
        parameters=parameters.tolist(),
        fixed_parameters=center.tolist(),
    )
    matrix = itk_to_world(parameters, center)
    for point_ras in rng.normal(0.0, 50.0, (5, 3)):
        point_lps = point_ras * [-1.0, -1.0, 1.0]
        mapped_lps = np.asarray(tx.apply_to_point(point_lps.tolist()))
        expected_ras = (matrix @ np.append(point_ras, 1.0))[:3]
        np.testing.assert_allclose(mapped_lps * [-1.0, -1.0, 1.0], expected_ras, atol=1e-9)


def test_itk_parameters_are_checked():
    with pytest.raises(ValueError, match="12 parameters"):
        itk_to_world(np.zeros(6), np.zeros(3))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"metric": "CC"}, "metric"),
        ({"sampling_rate": 0.0}, "sampling_rate"),
        ({"iterations": (10, 10)}, "same non-zero length"),
        ({"shrink_factors": (4, 2, 0)}, "shrink_factors"),
        ({"initialization": "moments"}, "initialization"),
    ],
)
def test_ants_settings_are_validated(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AntsSettings(**kwargs)


def test_fast_preset_is_cheaper():
    assert sum(ANTS_PRESETS["fast"].iterations) < sum(ANTS_PRESETS["standard"].iterations)


@pytest.fixture
def grids(tmp_path):
    """A smooth moving image (LAS, anisotropic) and an oblique LPS fixed grid overlapping it."""
    moving_affine = np.diag([-2.0, 2.2, 4.0, 1.0])
    moving_affine[:3, 3] = [40.0, -45.0, -20.0]
    shape = (40, 42, 12)
    i, j, k = np.indices(shape)
    data = np.sin(i / 5.0) * np.cos(j / 7.0) + 0.1 * k
    labels = ((i // 8 + j // 8 + k // 3) % 3).astype(np.uint8)
    # The fixed grid is oblique (tilted 10 degrees) and stored L-P-S.
    fixed_affine = rigid_matrix((10.0, 0.0, 0.0)) @ np.diag([-2.5, -2.5, 4.0, 1.0])
    fixed_affine[:3, 3] = [35.0, 40.0, -16.0]
    moving = save(data, moving_affine, tmp_path / "moving.nii.gz")
    label_path = save(labels, moving_affine, tmp_path / "labels.nii.gz", dtype=np.uint8)
    fixed = save(np.zeros((28, 30, 10)), fixed_affine, tmp_path / "fixed.nii.gz")
    return moving, label_path, fixed


def scipy_resample(moving, fixed, matrix, order):
    """Independent resampling: fixed voxel -> world -> moving world (M) -> moving voxel.

    Returns the resampled data and where the sample lies safely inside the moving grid
    (resamplers differ in how they treat the last half voxel at the border).
    """
    moving_image, fixed_image = nib.load(moving), nib.load(fixed)
    to_moving = np.linalg.inv(moving_image.affine) @ matrix @ fixed_image.affine
    index = np.indices(fixed_image.shape).reshape(3, -1)
    coords = to_moving[:3, :3] @ index + to_moving[:3, 3:]
    upper = np.array(moving_image.shape)[:, None] - 1.5
    inside = np.all((coords > 0.5) & (coords < upper), axis=0).reshape(fixed_image.shape)
    data = np.asarray(moving_image.dataobj, dtype=float)
    resampled = ndimage.map_coordinates(data, coords, order=order, cval=0.0)
    return resampled.reshape(fixed_image.shape), inside


def test_resample_matches_independent_scipy_resampling(grids, tmp_path):
    moving, _, fixed = grids
    matrix = rigid_matrix((3.0, -2.0, 5.0), (2.0, 1.5, -1.0), center_mm=(0.0, 0.0, 0.0))
    ours = resample(Resampling(moving, fixed, matrix, "linear", tmp_path))
    reference, inside = scipy_resample(moving, fixed, matrix, order=1)
    assert ours.shape == reference.shape
    assert inside.mean() > 0.5
    np.testing.assert_allclose(ours[inside], reference[inside], atol=1e-4)
    # The wrong convention (the inverse matrix) would not match.
    wrong, _ = scipy_resample(moving, fixed, np.linalg.inv(matrix), order=1)
    assert np.abs(wrong[inside] - ours[inside]).max() > 0.1


def test_nearest_resampling_keeps_labels(grids, tmp_path):
    _, labels, fixed = grids
    matrix = rigid_matrix((0.0, 0.0, 7.0), (1.0, 0.0, 0.0))
    ours = resample(Resampling(labels, fixed, matrix, "nearest", tmp_path))
    assert set(np.unique(ours)) <= {0.0, 1.0, 2.0}
    reference, inside = scipy_resample(labels, fixed, matrix, order=0)
    # Nearest neighbour may break ties at exact half-voxel positions differently.
    assert np.mean(ours[inside] == reference[inside]) > 0.98


def test_resample_rejects_unknown_interpolation(grids, tmp_path):
    moving, _, fixed = grids
    with pytest.raises(ValueError, match="interpolation"):
        resample(Resampling(moving, fixed, np.eye(4), "cubic", tmp_path))
