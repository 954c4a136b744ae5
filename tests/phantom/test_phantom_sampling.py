"""sample_maps against the reference it replaces: map_coordinates, order 1, edges extended."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from synflair.phantom.sampling import sample_maps


def _reference(maps, index):
    return np.stack(
        [ndimage.map_coordinates(m, index, order=1, mode="nearest", prefilter=False) for m in maps]
    )


@pytest.mark.parametrize("shape", [(17, 23, 11), (9, 1, 6), (2, 2, 2)])
def test_matches_map_coordinates_inside_and_outside_the_grid(shape):
    rng = np.random.default_rng(3)
    maps = [rng.random(shape).astype(np.float32) for _ in range(4)]
    size = np.asarray(shape)[:, None]
    index = rng.random((3, 5000)) * (size + 6) - 3  # up to 3 voxels outside on every side
    got = sample_maps(maps, index.astype(np.float32))
    assert got.shape == (4, 5000) and got.dtype == np.float32
    np.testing.assert_allclose(got, _reference(maps, index.astype(np.float32)), atol=1e-6)


def test_points_in_a_thin_slab_and_on_grid_points():
    rng = np.random.default_rng(4)
    maps = [rng.random((30, 40, 50)).astype(np.float32) for _ in range(3)]
    index = np.stack([rng.random(2000) * 29, rng.random(2000) * 39, 20 + rng.random(2000) * 2])
    np.testing.assert_allclose(sample_maps(maps, index), _reference(maps, index), atol=1e-6)
    # on a grid point the sample is the voxel's value, also on the last voxel of each axis
    grid = np.array([[0, 29, 5], [0, 39, 7], [0, 49, 9]], dtype=float)
    expected = np.stack([[m[0, 0, 0], m[29, 39, 49], m[5, 7, 9]] for m in maps])
    np.testing.assert_array_equal(sample_maps(maps, grid), expected)


def test_a_linear_map_is_reproduced_exactly():
    x, y, z = np.meshgrid(np.arange(8.0), np.arange(9.0), np.arange(10.0), indexing="ij")
    linear = (2 * x - 3 * y + 0.5 * z + 1).astype(np.float32)
    index = np.array([[1.25, 6.5], [2.75, 0.1], [3.5, 8.9]])
    expected = 2 * index[0] - 3 * index[1] + 0.5 * index[2] + 1
    np.testing.assert_allclose(sample_maps([linear], index)[0], expected, rtol=1e-6)


def test_no_points_and_bad_arguments():
    maps = [np.zeros((4, 4, 4), np.float32)]
    assert sample_maps(maps, np.zeros((3, 0))).shape == (1, 0)
    with pytest.raises(ValueError, match="at least one map"):
        sample_maps([], np.zeros((3, 1)))
    with pytest.raises(ValueError, match="of one shape"):
        sample_maps([np.zeros((4, 4, 4)), np.zeros((4, 4, 5))], np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"shape \(3, N\)"):
        sample_maps(maps, np.zeros((2, 5)))
