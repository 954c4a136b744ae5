"""Local contrast: how far a small bright spot stands out from its immediate surroundings.

A small lesion is a *local* maximum of FLAIR against the white matter right around
it, whereas normal FLAIR-bright white matter (posterior fossa, peritrigonal) is
broad and smooth. :func:`local_contrast` is a multi-scale blob score, a
difference of Gaussians in the spirit of the Laplacian-of-Gaussian blob
detector (Lindeberg T. Int J Comput Vis 1998;30:79-116):

1. at each scale ``s`` (mm), the centre ``C_s``: the Gaussian mean (SD ``s``) of
   the score inside the mask;
2. the surroundings ``S_s``: the mean of the score over a ring, the weight
   ``(2s)^3 G_2s - s^3 G_s`` (zero at the centre, largest about 2-3 ``s`` away),
   over the ``weight`` voxels only (CSF left out: it is dark on FLAIR and would
   make every voxel beside a ventricle a local maximum);
3. the response ``D_s = C_s - S_s``, in units of its own robust spread over the
   ``reference`` voxels (normal white matter): ``(D_s - median) / SD``, with the
   SD from the lower half only (lesions are all on the bright side);
4. the score: the maximum over the scales.

A broad plateau gives about 0 away from its edges, a blob of about the scale's
size a large positive score. The score is dimensionless: the same threshold on
images of any intensity scale, noise and texture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

__all__ = ["local_contrast", "ring_mean"]


def ring_mean(
    image: np.ndarray,
    weight: np.ndarray,
    voxel_size: Sequence[float],
    inner_mm: float,
    outer_mm: float,
) -> np.ndarray:
    """Weighted mean of ``image`` over a Gaussian ring around each voxel.

    Parameters
    ----------
    image : numpy.ndarray, 3D
    weight : numpy.ndarray of bool or float, same shape
        Voxels (weights) that count as surroundings.
    voxel_size : sequence of 3 float
        mm.
    inner_mm, outer_mm : float
        Gaussian SDs (mm, ``0 < inner_mm < outer_mm``); the ring kernel is
        ``outer^3 G_outer - inner^3 G_inner``: zero at the centre.

    Returns
    -------
    numpy.ndarray of float
        The ring mean; where the ring holds (almost) no weight, the value is not
        meaningful (its weight is floored).
    """
    if not 0 < inner_mm < outer_mm:
        raise ValueError(f"expected 0 < inner_mm < outer_mm, not {inner_mm!r}, {outer_mm!r}")
    inner = [inner_mm / float(v) for v in voxel_size]
    outer = [outer_mm / float(v) for v in voxel_size]
    k_in, k_out = float(np.prod(inner)), float(np.prod(outer))
    w = np.asarray(weight, dtype=np.float64)
    fw = np.asarray(image, dtype=np.float64) * w
    num = k_out * ndimage.gaussian_filter(fw, outer) - k_in * ndimage.gaussian_filter(fw, inner)
    den = k_out * ndimage.gaussian_filter(w, outer) - k_in * ndimage.gaussian_filter(w, inner)
    return num / np.maximum(den, 1e-3 * k_out)


def local_contrast(
    score: np.ndarray,
    mask: np.ndarray,
    weight: np.ndarray,
    reference: np.ndarray,
    voxel_size: Sequence[float],
    scales_mm: Sequence[float] = (1.0, 2.0),
    min_spread: float = 0.0,
) -> np.ndarray:
    """Multi-scale blob score of ``score`` against its surroundings (see the module docstring).

    Parameters
    ----------
    score : numpy.ndarray, 3D
        An intensity or hyperintensity score (e.g. FLAIR in WM SDs above the ceiling).
    mask : numpy.ndarray of bool
        Brain mask; the centre mean stays inside it, the result is 0 outside.
    weight : numpy.ndarray of bool
        Voxels that count as surroundings (e.g. the mask without CSF).
    reference : numpy.ndarray of bool
        Normal tissue (e.g. pure WM) over which each scale's response is normalised;
        at least 2 voxels.
    voxel_size : sequence of 3 float
        mm (anisotropic voxels, thick slices included).
    scales_mm : sequence of float
        Blob scales (Gaussian SD of the centre, mm), each > 0.
    min_spread : float
        Least spread of a response, in the units of ``score`` (so that an almost
        noise-free image does not make tiny bumps large scores).

    Returns
    -------
    numpy.ndarray of float
        Dimensionless: robust SDs of normal tissue's response; 0 outside the mask.
    """
    mask = np.asarray(mask, dtype=bool)
    reference = np.asarray(reference, dtype=bool) & mask
    if reference.sum() < 2:
        raise ValueError("local_contrast needs at least 2 reference voxels")
    if not scales_mm or any(s <= 0 for s in scales_mm):
        raise ValueError(f"scales_mm must be positive mm, not {scales_mm!r}")
    score = np.where(mask, np.asarray(score, dtype=np.float64), 0.0)
    inside = mask.astype(np.float64)
    best = np.full(mask.shape, -np.inf)
    for scale in scales_mm:
        sigma = [scale / float(v) for v in voxel_size]
        centre = ndimage.gaussian_filter(score, sigma) / np.maximum(
            ndimage.gaussian_filter(inside, sigma), 1e-3
        )
        response = centre - ring_mean(score, weight, voxel_size, scale, 2.0 * scale)
        values = response[reference]
        median = float(np.median(values))
        lower = values[values <= median] - median
        spread = float(np.sqrt(np.mean(lower**2)))
        best = np.maximum(best, (response - median) / max(spread, min_spread, 1e-12))
    return np.where(mask, best, 0.0)
