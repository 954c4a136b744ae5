"""Lesion contrast: the lesion / normal-appearing white matter (NAWM) intensity ratio.

The figure the phantom's lesions are calibrated on (docs/phantom.md), measured
the same way on real data and on the phantom: the mean intensity in the lesion
mask over the median intensity of the normal-appearing white matter, i.e. the
white-matter voxels away from any lesion. On real MS FLAIR it is about 1.3-1.6
(Lesjak et al., Neuroinformatics 2018;16:51-63, CC-BY).
"""

from __future__ import annotations

import numpy as np

__all__ = ["lesion_ratio", "nawm_mask"]


def nawm_mask(wm: np.ndarray, lesion: np.ndarray, threshold: float = 0.5, margin: int = 1):
    """Normal-appearing white matter: ``wm >= threshold``, ``margin`` voxels away from lesions.

    Parameters
    ----------
    wm : numpy.ndarray
        White-matter probability or fraction (truth or a segmentation).
    lesion : numpy.ndarray of bool, same shape
        Lesion mask.
    threshold : float
        Lowest white-matter probability counted.
    margin : int
        Dilation of the lesion mask (voxels, 6-connected) left out of the NAWM.

    Returns
    -------
    numpy.ndarray of bool
    """
    from scipy import ndimage

    wm = np.asarray(wm)
    lesion = np.asarray(lesion, dtype=bool)
    if wm.shape != lesion.shape:
        raise ValueError(
            f"wm and lesion must have the same shape, not {wm.shape} and {lesion.shape}"
        )
    if int(margin) > 0 and lesion.any():
        lesion = ndimage.binary_dilation(lesion, iterations=int(margin))
    return (wm >= threshold) & ~lesion


def lesion_ratio(image: np.ndarray, lesion: np.ndarray, nawm: np.ndarray) -> float:
    """Mean intensity in ``lesion`` over the median intensity in ``nawm``.

    Parameters
    ----------
    image : numpy.ndarray
        Intensities (e.g. a FLAIR or a T1-weighted image).
    lesion, nawm : numpy.ndarray of bool, same shape
        Lesion and normal-appearing white-matter masks; both must be non-empty.

    Returns
    -------
    float
        Dimensionless; 1 for no contrast.
    """
    image = np.asarray(image, dtype=np.float64)
    lesion = np.asarray(lesion, dtype=bool)
    nawm = np.asarray(nawm, dtype=bool)
    if not image.shape == lesion.shape == nawm.shape:
        raise ValueError(
            "image, lesion and nawm must have the same shape, not "
            f"{image.shape}, {lesion.shape} and {nawm.shape}"
        )
    if not lesion.any() or not nawm.any():
        raise ValueError(
            f"lesion and nawm must be non-empty, not {int(lesion.sum())} and "
            f"{int(nawm.sum())} voxels"
        )
    reference = float(np.median(image[nawm]))
    if reference <= 0:
        raise ValueError(f"the NAWM median must be > 0, not {reference!r}")
    return float(image[lesion].mean() / reference)
