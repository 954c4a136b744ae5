"""Lesion contrast: a FLAIR's lesion / normal-appearing white matter (NAWM) intensity ratio.

A FLAIR that keeps lesions shows them as bright as the conventional FLAIR does,
relative to the white matter around them. On one lesion map (the conventional
FLAIR's, computable on any cohort; on the phantom also the truth):

* ``NAWM = WM & intracranial & ~dilate(lesions, margin)``, with ``WM`` the hard
  label 3 of the tissue segmentation and the dilation in-plane (8-connected, the
  lesion segmentation's own neighbourhood), so that lesion borders and partial
  volume do not count as normal tissue;
* ``ratio(image) = mean(image[lesions]) / mean(image[NAWM])`` (dimensionless, so
  independent of the intensity scaling);
* ``contrast(image) = ratio(image) / ratio(conventional)``: 1 when the image shows
  the lesions with the conventional FLAIR's contrast, < 1 when they fade (a
  regression that averages lesions away into normal tissue gives about
  ``1 / ratio(conventional)``), > 1 when it exaggerates them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__ = ["MIN_LESION_VOXELS", "lesion_nawm_ratio", "nawm_mask"]

#: Fewer lesion voxels than this give no ratio (NaN): too few to average.
MIN_LESION_VOXELS = 5


def nawm_mask(
    dseg: np.ndarray, mask: np.ndarray, lesions: np.ndarray, margin: int = 2
) -> np.ndarray:
    """Normal-appearing WM: WM labels inside ``mask`` minus lesions dilated by ``margin``.

    Parameters
    ----------
    dseg : numpy.ndarray of int, 3D
        Tissue labels (1 CSF, 2 GM, 3 WM).
    mask : numpy.ndarray of bool, 3D
        Intracranial mask.
    lesions : numpy.ndarray of bool, 3D
        Lesion map.
    margin : int
        In-plane dilation of the lesions, voxels (8-connected steps; 0: none).

    Returns
    -------
    numpy.ndarray of bool
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0 voxels, not {margin!r}")
    lesions = np.asarray(lesions, dtype=bool)
    grown = lesions
    if margin and lesions.any():
        structure = np.zeros((3, 3, 3), bool)
        structure[:, :, 1] = True  # in-plane (axes 0 and 1) 8-neighbourhood
        grown = ndimage.binary_dilation(lesions, structure=structure, iterations=margin)
    return (np.asarray(dseg) == 3) & np.asarray(mask, dtype=bool) & ~grown


def lesion_nawm_ratio(image: np.ndarray, lesions: np.ndarray, nawm: np.ndarray) -> float:
    """``mean(image[lesions]) / mean(image[nawm])``; NaN with too few voxels or a NAWM mean <= 0.

    Parameters
    ----------
    image : numpy.ndarray, 3D
        A FLAIR (any intensity scale).
    lesions, nawm : numpy.ndarray of bool, same shape
        Lesion map and NAWM (see :func:`nawm_mask`).

    Returns
    -------
    float
        The ratio, or NaN when ``lesions`` has fewer than :data:`MIN_LESION_VOXELS`
        voxels, ``nawm`` is empty or its mean is not positive.
    """
    image = np.asarray(image, dtype=np.float64)
    lesions = np.asarray(lesions, dtype=bool)
    nawm = np.asarray(nawm, dtype=bool)
    if lesions.sum() < MIN_LESION_VOXELS or not nawm.any():
        return math.nan
    background = float(image[nawm].mean())
    if not background > 0:
        return math.nan
    return float(image[lesions].mean()) / background
