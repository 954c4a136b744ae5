"""Local contrast (synflair.lesions.contrast) and the local-contrast seeds of the segmentation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from synflair.lesions import LesionParams, segment_lesions
from synflair.lesions.contrast import local_contrast, ring_mean

SHAPE = (40, 40, 40)
CENTRE_BLOB = (12, 20, 20)
PLATEAU = (slice(24, None), slice(None), slice(None))  # x >= 24: broad
INTERIOR = (slice(30, 36), slice(8, 32), slice(8, 32))  # well inside it


def _field(rng, noise=1.0):
    """Noise (SD ``noise``) plus a 3-voxel bright cube and a broad smooth plateau, both 2 high."""
    image = np.zeros(SHAPE)
    image[PLATEAU] = 2.0
    image = ndimage.gaussian_filter(image, 3.0, mode="nearest")  # smooth edge
    blob = tuple(slice(c - 1, c + 2) for c in CENTRE_BLOB)
    image[blob] += 2.0
    return image + rng.normal(0.0, noise, SHAPE), blob


def test_a_small_blob_stands_out_and_a_broad_bump_of_the_same_height_does_not():
    image, blob = _field(np.random.default_rng(0))
    mask = np.ones(SHAPE, dtype=bool)
    contrast = local_contrast(image, mask, mask, mask, (1.0, 1.0, 1.0))
    assert contrast[blob].mean() > 5
    assert np.percentile(contrast[INTERIOR], 99) < 3
    # the plateau is as bright as the cube in absolute terms
    assert image[INTERIOR].mean() > image[blob].mean() - 0.5


def test_contrast_is_dimensionless():
    image, _ = _field(np.random.default_rng(1))
    mask = np.ones(SHAPE, dtype=bool)
    a = local_contrast(image, mask, mask, mask, (1.0, 1.0, 1.0))
    b = local_contrast(50.0 * image + 1000.0, mask, mask, mask, (1.0, 1.0, 1.0))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_ring_mean_leaves_the_centre_out():
    image = np.zeros((31, 31, 31))
    image[15, 15, 15] = 1000.0
    ring = ring_mean(image, np.ones(image.shape), (1.0, 1.0, 1.0), 1.0, 2.0)
    # the centre voxel carries no weight in its own ring; a 6-neighbour carries some
    assert abs(ring[15, 15, 15]) < 1e-3  # 1e-6 of the spike (discrete kernels)
    assert ring[15, 15, 17] > 1.0
    flat = ring_mean(np.full((21, 21, 21), 7.0), np.ones((21, 21, 21)), (1.0, 1.0, 2.0), 1.0, 2.0)
    np.testing.assert_allclose(flat, 7.0, rtol=1e-9)


def test_surroundings_outside_the_weight_do_not_count():
    """A voxel beside dark CSF is not a local maximum when CSF is left out of the ring."""
    rng = np.random.default_rng(2)
    image = rng.normal(0.0, 0.1, SHAPE)
    image[:, :20] = -10.0  # dark CSF half
    mask = np.ones(SHAPE, dtype=bool)
    tissue = np.zeros(SHAPE, dtype=bool)
    tissue[:, 20:] = True
    with_csf = local_contrast(image, mask, mask, tissue, (1.0, 1.0, 1.0), min_spread=0.1)
    without = local_contrast(image, mask, tissue, tissue, (1.0, 1.0, 1.0), min_spread=0.1)
    assert with_csf[:, 21].mean() > 5
    assert np.abs(without[:, 21]).mean() < 2


@pytest.mark.parametrize("bad", [{"scales_mm": ()}, {"scales_mm": (0.0,)}])
def test_bad_scales_are_refused(bad):
    mask = np.ones((8, 8, 8), dtype=bool)
    with pytest.raises(ValueError, match="scales_mm"):
        local_contrast(np.zeros(mask.shape), mask, mask, mask, (1.0, 1.0, 1.0), **bad)


def _brain(rng):
    """CSF rim, GM layer, WM core (FLAIR GM = WM); in WM a faint 3-voxel cube and a broad
    smooth bright region, both below the global seed threshold."""
    grid = np.indices(SHAPE).astype(float)
    depth = np.min([np.minimum(g, s - 1 - g) for g, s in zip(grid, SHAPE, strict=True)], axis=0)
    csf, gm = depth < 3, (depth >= 3) & (depth < 6)
    wm = depth >= 6
    flair = np.where(csf, 20.0, 100.0)
    bright = np.zeros(SHAPE)
    bright[22:32, 10:30, 10:30] = 10.0  # 2 SDs (SD: 5% of the ceiling), 4+ voxels inside WM
    flair += ndimage.gaussian_filter(bright, 3.0)
    blob = tuple(slice(c - 1, c + 2) for c in CENTRE_BLOB)
    flair[blob] += 10.0
    flair += rng.normal(0.0, 2.0, SHAPE)
    return flair, csf, gm, wm, blob


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_local_seeds_find_a_faint_small_lesion_but_not_broad_bright_wm(seed):
    flair, csf, gm, wm, blob = _brain(np.random.default_rng(seed))
    mask = np.ones(SHAPE, dtype=bool)
    args = (flair, mask, gm.astype(float), wm.astype(float), csf.astype(float))
    # (no bias field here; the mean-score rule is not what this test is about)
    default = LesionParams(bias_degree=0, min_mean_z=1.0)
    local = LesionParams(bias_degree=0, min_mean_z=1.0, local_seed_score=3.0)
    without, _ = segment_lesions(*args, default)
    found, _ = segment_lesions(*args, local)
    plateau = (slice(19, 35), slice(7, 33), slice(7, 33))
    assert not without[blob].any()  # below kappa: the global threshold misses it
    assert found[blob].any()
    assert not found[plateau].any()
    assert found.sum() < 60


def test_local_seed_parameters_are_validated():
    with pytest.raises(ValueError, match="local_seed_score"):
        LesionParams(local_seed_score=-1.0)
    with pytest.raises(ValueError, match="local_seed_z"):
        LesionParams(local_seed_z=float("nan"))
