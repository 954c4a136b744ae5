"""A brain mask for ``synflair lesions`` when the user gives none.

Two cases, told apart by the images themselves:

- **skull-stripped** input (most public MS data; zero outside the brain): the
  mask is the non-zero region of the FLAIR or the T1, holes filled, largest
  connected component;
- **input with skull**: a simple morphological brain extraction on the T1:
  the head (T1 above Otsu's threshold), eroded by ``erode_mm`` to cut the thin
  bridges between brain and scalp, its largest connected component, dilated
  back within the head, holes filled (slice by slice and in 3D). This is crude
  next to a dedicated skull stripper; pass ``--mask`` for anything that matters
  (the workflow always does: the intracranial mask of the quantitative maps).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from synflair.errors import SynflairError

__all__ = ["estimate_brain_mask", "is_skull_stripped"]

#: Fraction of exact zeros from which an image counts as skull-stripped.
STRIPPED_ZERO_FRACTION = 0.2


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def _fill(mask: np.ndarray) -> np.ndarray:
    mask = ndimage.binary_fill_holes(mask)
    for k in range(mask.shape[2]):
        mask[..., k] = ndimage.binary_fill_holes(mask[..., k])
    return mask


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of ``values`` (maximum between-class variance)."""
    hist, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * centres)
    total, grand = weight[-1], mean[-1]
    w1 = total - weight
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (grand * weight - mean * total) ** 2 / (weight * w1)
    between[~np.isfinite(between)] = 0
    return float(centres[int(np.argmax(between))])


def is_skull_stripped(*images: np.ndarray) -> bool:
    """Whether every image is exactly zero on a large part of the grid."""
    return all(float(np.mean(np.asarray(i) == 0)) >= STRIPPED_ZERO_FRACTION for i in images)


def estimate_brain_mask(
    t1: np.ndarray,
    flair: np.ndarray,
    voxel_size: Sequence[float],
    *,
    erode_mm: float = 4.0,
) -> np.ndarray:
    """Brain mask from a T1 and a FLAIR on the same grid.

    Parameters
    ----------
    t1, flair : numpy.ndarray, 3D, same shape
    voxel_size : sequence of 3 float
        mm.
    erode_mm : float
        Erosion that separates brain from scalp (input with skull).

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    SynflairError
        When the estimate is empty.
    """
    t1 = np.nan_to_num(np.asarray(t1, dtype=np.float64))
    flair = np.nan_to_num(np.asarray(flair, dtype=np.float64))
    if is_skull_stripped(t1, flair):
        mask = _largest_component(_fill((t1 != 0) | (flair != 0)))
    else:
        values = t1[t1 > 0]
        if values.size == 0:
            raise SynflairError("the T1 is zero everywhere; cannot estimate a brain mask")
        head = t1 > otsu_threshold(values)
        core = ndimage.distance_transform_edt(head, sampling=voxel_size) > erode_mm
        core = _largest_component(core)
        grown = ndimage.distance_transform_edt(~core, sampling=voxel_size) <= erode_mm
        mask = _fill(grown & head)
    if not mask.any():
        raise SynflairError("the estimated brain mask is empty; pass --mask")
    return mask
