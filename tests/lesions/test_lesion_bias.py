import numpy as np
import pytest

from synflair.errors import SynflairError
from synflair.lesions.bias import estimate_bias, evaluate_polynomial, monomial_exponents

VOXEL = (1.5, 1.5, 5.0)


def two_tissue_head(rng, *, lesions=True):
    """A WM ellipsoid inside a GM shell inside a mask, with a log-quadratic bias."""
    shape = (64, 72, 14)
    idx = np.indices(shape).astype(float)
    half = (45.0, 50.0, 35.0)
    r = np.sqrt(sum(((idx[i] - (shape[i] - 1) / 2) * VOXEL[i] / half[i]) ** 2 for i in range(3)))
    mask = r <= 1.0
    wm = r <= 0.7
    gm = mask & ~wm
    exponents = monomial_exponents(2)
    coef = np.array([0.15, -0.1, 0.05, 0.2, 0.1, 0.0, -0.1, 0.05, 0.0])
    true = np.exp(evaluate_polynomial(coef, exponents, shape, VOXEL))
    flair = np.where(gm, 1500.0, 1100.0) * true * mask
    flair = flair * (1 + rng.normal(0, 0.02, shape))
    if lesions:  # bright blobs inside WM must not bend the fit
        for centre in ((20, 30, 7), (40, 40, 5), (32, 20, 9)):
            d = sum(((idx[i] - centre[i]) * VOXEL[i]) ** 2 for i in range(3))
            flair[(d <= 36) & wm] *= 2.0
    edge = mask & (r > 0.95)  # partial volume with bone at the edge
    flair[edge] *= 0.5
    return flair, mask, gm & (r < 0.95), wm, true


def test_recovers_a_log_quadratic_bias_despite_lesions_and_edge():
    flair, mask, gm, wm, true = two_tissue_head(np.random.default_rng(0))
    bias = estimate_bias(flair, (gm, wm), degree=3, voxel_size=VOXEL, mask=mask)
    true = true / np.exp(np.mean(np.log(true[gm | wm])))
    error = np.abs(bias[mask] / true[mask] - 1)
    assert np.percentile(error, 99) < 0.02
    assert true[mask].max() / true[mask].min() > 1.3  # the bias is strong


def test_no_bias_gives_a_flat_field():
    _, mask, gm, wm, _ = two_tissue_head(np.random.default_rng(1))
    noise = np.random.default_rng(2).normal(0, 0.02, mask.shape)
    flat = np.where(gm, 1500.0, 1100.0) * mask * (1 + noise)
    bias = estimate_bias(flat, (gm, wm), degree=2, voxel_size=VOXEL, mask=mask)
    assert np.abs(bias[mask] - 1).max() < 0.01


def test_monomials_and_bad_input():
    assert len(monomial_exponents(1)) == 3
    assert len(monomial_exponents(3)) == 19
    flair, _, gm, wm, _ = two_tissue_head(np.random.default_rng(0))
    with pytest.raises(ValueError, match="degree"):
        estimate_bias(flair, (gm, wm), degree=0, voxel_size=VOXEL)
    few = np.zeros_like(gm)
    few[30, 30, 5] = True
    with pytest.raises(SynflairError, match="pure-tissue voxels"):
        estimate_bias(flair, (few,), degree=3, voxel_size=VOXEL)
