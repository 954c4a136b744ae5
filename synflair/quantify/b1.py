"""A smooth B1 field from the per-voxel B1 estimates (normalized convolution).

The transmit field B1 varies slowly over the head (tens of mm at 3 T), but its
per-voxel estimate from MDME data is noisy and correlated with the T1
estimate: fitting B1 in every voxel costs T1 precision (at SNR ~40 in white
matter the Cramér-Rao bound on T1 is ~6.6 % with B1 free and ~3.7 % with B1
known; :mod:`synflair.quantify.precision`). :func:`smooth_b1` estimates the
field from the voxels where B1 is well determined, so that a second pass can
fit T1 and PD with B1 fixed (``FitSettings.b1_smoothing_mm``).

The smoothing is a normalized convolution (Knutsson and Westin, CVPR 1993):
``B1_s = G * (w B1) / G * w`` with a Gaussian ``G`` of the given FWHM and
weights ``w`` (1 in reliable voxels, 0 elsewhere), evaluated on a grid about
FWHM/4 coarse and interpolated back (linear), which is exact enough for a
field this smooth and keeps it fast on 512 x 512 x 30 exams. Far from any
weighted voxel the field is the weighted mean.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__ = ["smooth_b1"]


def _block_sum(array: np.ndarray, factors: tuple[int, ...]) -> np.ndarray:
    pad = [(0, (-n) % f) for n, f in zip(array.shape, factors, strict=True)]
    array = np.pad(array, pad)
    shape = []
    for n, f in zip(array.shape, factors, strict=True):
        shape += [n // f, f]
    return array.reshape(shape).sum(axis=tuple(range(1, 2 * array.ndim, 2)))


def smooth_b1(b1: np.ndarray, weights: np.ndarray, voxel_size, fwhm_mm: float) -> np.ndarray:
    """Smooth B1 field from weighted per-voxel estimates.

    Parameters
    ----------
    b1 : numpy.ndarray, shape (X, Y, Z)
        Per-voxel B1 ratio.
    weights : numpy.ndarray, shape (X, Y, Z)
        Non-negative reliability weights (e.g. a boolean mask).
    voxel_size : (float, float, float)
        mm.
    fwhm_mm : float
        Full width at half maximum of the Gaussian, mm.

    Returns
    -------
    numpy.ndarray of float32, shape (X, Y, Z)
    """
    b1 = np.asarray(b1, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if b1.ndim != 3 or weights.shape != b1.shape:
        raise ValueError(f"b1 and weights must be 3D of one shape, not {b1.shape}, {weights.shape}")
    voxel_size = tuple(float(v) for v in voxel_size)
    if len(voxel_size) != 3 or not all(math.isfinite(v) and v > 0 for v in voxel_size):
        raise ValueError(f"voxel_size must be 3 positive mm values, not {voxel_size!r}")
    if not (math.isfinite(fwhm_mm) and fwhm_mm > 0):
        raise ValueError(f"fwhm_mm must be a positive number of mm, not {fwhm_mm!r}")
    total = weights.sum()
    if total <= 0:
        raise ValueError("weights are all zero: no voxel to estimate B1 from")
    mean = float((weights * b1).sum() / total)

    factors = tuple(max(1, int(fwhm_mm / 4.0 / v)) for v in voxel_size)
    num = _block_sum(weights * b1, factors)
    den = _block_sum(weights, factors)
    sigma = [
        fwhm_mm / math.sqrt(8 * math.log(2)) / (v * f)
        for v, f in zip(voxel_size, factors, strict=True)
    ]
    num = ndimage.gaussian_filter(num, sigma, mode="constant")
    den = ndimage.gaussian_filter(den, sigma, mode="constant")
    reliable = den > 1e-3 * den.max()
    coarse = np.where(reliable, num / np.where(reliable, den, 1.0), mean)
    return _upsample(coarse, b1.shape, factors).astype(np.float32)


def _upsample(coarse: np.ndarray, shape, factors) -> np.ndarray:
    """Separable linear interpolation from block centres back to the fine grid."""
    out = coarse
    for axis, (n, f) in enumerate(zip(shape, factors, strict=True)):
        position = np.clip((np.arange(n) + 0.5) / f - 0.5, 0, out.shape[axis] - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, out.shape[axis] - 1)
        weight = (position - low).reshape([-1 if a == axis else 1 for a in range(out.ndim)])
        out = np.take(out, low, axis=axis) * (1 - weight) + np.take(out, high, axis=axis) * weight
    return out
