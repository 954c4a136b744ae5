"""Image-similarity metrics of the paper: PSNR, NRMSE and NRMSE maps, inside a mask.

Definitions (Hagiwara et al., AJNR 2019, "Evaluation of the Model"):

- ``PSNR = 20 log10(peak / sqrt(MSE))`` with ``peak = 25,500`` ("the maximum
  range of the FLAIR signal intensity") and the MSE over the voxels of a mask;
- ``NRMSE = sqrt(MSE) / mean(image)``: the root mean square error "scaled by
  dividing by the mean signal intensity of synthetic and DL-FLAIR images" (the
  image under test, not the reference);
- the NRMSE map, ``|image - reference| / mean(image)`` per voxel, for figures.

Both images must be on one intensity scale (see :mod:`synflair.intensity`);
these functions do not rescale. With a mask given, only its voxels count: the
values coincide with scikit-image's ``peak_signal_noise_ratio(reference[mask],
image[mask], data_range=peak)`` and ``normalized_root_mse(image[mask],
reference[mask], normalization="mean")``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from synflair.errors import SynflairError

#: The paper's PSNR peak: "the maximum range of the FLAIR signal intensity".
PAPER_PEAK = 25500.0


def _mask(mask: ArrayLike | None, shape: tuple[int, ...], name: str) -> np.ndarray:
    if mask is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise SynflairError(f"{name} has shape {mask.shape}, expected the image shape {shape}")
    mask = mask.astype(bool)
    if not mask.any():
        raise SynflairError(f"{name} is empty; expected at least one voxel")
    return mask


def _values(image: ArrayLike, reference: ArrayLike, mask: ArrayLike | None):
    image = np.asarray(image, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if image.shape != reference.shape:
        raise SynflairError(
            f"image has shape {image.shape} but reference has {reference.shape}; "
            "expected images on the same voxel grid"
        )
    mask = _mask(mask, image.shape, "mask")
    a, b = image[mask], reference[mask]
    for values, name in ((a, "image"), (b, "reference")):
        if not np.all(np.isfinite(values)):
            raise SynflairError(f"{name} has NaN or infinite values inside the mask")
    return a, b, mask


def mse(image: ArrayLike, reference: ArrayLike, mask: ArrayLike | None = None) -> float:
    """Mean squared error of ``image`` against ``reference`` over ``mask``.

    Parameters
    ----------
    image, reference : array_like, same shape
        Intensities on one scale (arbitrary units).
    mask : array_like of bool, optional
        Voxels to use (default: all); must not be empty.

    Returns
    -------
    float
        In squared intensity units.
    """
    a, b, _ = _values(image, reference, mask)
    return float(np.mean((a - b) ** 2))


def psnr(
    image: ArrayLike,
    reference: ArrayLike,
    mask: ArrayLike | None = None,
    peak: float = PAPER_PEAK,
) -> float:
    """Peak signal-to-noise ratio, dB: ``20 log10(peak / sqrt(MSE in mask))``.

    Parameters
    ----------
    image, reference : array_like, same shape
    mask : array_like of bool, optional
    peak : float
        Peak intensity (the paper: 25,500).

    Returns
    -------
    float
        ``inf`` when the images agree exactly inside the mask.
    """
    if not (np.isfinite(peak) and peak > 0):
        raise SynflairError(f"peak must be a positive finite intensity, not {peak!r}")
    error = mse(image, reference, mask)
    if error == 0:
        return math.inf
    return float(20.0 * np.log10(peak / np.sqrt(error)))


def image_mean(image: ArrayLike, mask: ArrayLike | None = None, *, name: str = "image") -> float:
    """Mean of ``image`` over ``mask``; raises unless it is positive and finite."""
    image = np.asarray(image, dtype=np.float64)
    values = image[_mask(mask, image.shape, f"{name} mask")]
    mean = float(np.mean(values))
    if not (np.isfinite(mean) and mean > 0):
        raise SynflairError(
            f"{name}: mean inside the mask is {mean!r}; the NRMSE needs a positive mean "
            "(does the mask overlap the image?)"
        )
    return mean


def nrmse(
    image: ArrayLike,
    reference: ArrayLike,
    mask: ArrayLike | None = None,
    *,
    normalizer_mask: ArrayLike | None = None,
) -> float:
    """Normalized root mean square error, ``sqrt(MSE in mask) / mean(image in normalizer_mask)``.

    Parameters
    ----------
    image : array_like
        The image under test; its mean is the normalizer (the paper's definition).
    reference : array_like
        The reference (registered conventional FLAIR).
    mask : array_like of bool, optional
        Voxels of the MSE (default: all).
    normalizer_mask : array_like of bool, optional
        Voxels of the mean (default: ``mask``). The per-region figures of
        :func:`synflair.metrics.subject_metrics` use the intracranial mask here: the paper
        divides by the mean intensity "after applying the intracranial masks".

    Returns
    -------
    float
        Dimensionless.
    """
    error = mse(image, reference, mask)
    normalizer = mask if normalizer_mask is None else normalizer_mask
    return float(np.sqrt(error) / image_mean(image, normalizer))


def nrmse_map(
    image: ArrayLike,
    reference: ArrayLike,
    mask: ArrayLike | None = None,
    *,
    normalizer_mask: ArrayLike | None = None,
) -> np.ndarray:
    """Per-voxel ``|image - reference| / mean(image in normalizer_mask)``, zero outside ``mask``.

    The square root of the squared-error map scaled like :func:`nrmse` (the paper's
    Fig 2D-E).

    Returns
    -------
    numpy.ndarray of float32, the image shape
    """
    a, b, mask = _values(image, reference, mask)
    normalizer = mask if normalizer_mask is None else normalizer_mask
    out = np.zeros(mask.shape, dtype=np.float32)
    out[mask] = np.abs(a - b) / image_mean(image, normalizer)
    return out
