"""The subject's own normal-tissue FLAIR intensities, robust to lesions and to mislabelling.

A FLAIR lesion is a voxel brighter than any normal parenchyma of the same
subject. The reference is therefore the *brighter* of the GM and WM modes,
not the intensity the tissue map predicts for the voxel: a T1w (or R1)
segmentation labels T1-hypointense lesions GM, and an expectation built from
that label would call the lesion normal GM. As in LST's lesion growth
algorithm (Schmidt et al. 2012), each tissue's FLAIR distribution is the
subject's own:

- location ``m_t``: median FLAIR of the voxels with tissue probability
  ``>= purity`` (lesions are a small minority of them);
- scale ``s``: the robust SD of white matter from its *lower* half only,
  ``1.4826 * median(m_WM - x | x < m_WM)``, which lesions (all on the bright
  side) cannot inflate.

:func:`check_brain_contrast` refuses an image without the intensity
structure of a brain FLAIR (CSF darker than the parenchyma by several tissue
SDs), e.g. a uniform or noise volume, or tissue maps that do not belong to it.

References
----------
.. [1] Schmidt P, et al. An automated tool for detection of FLAIR-hyperintense
   white-matter lesions in multiple sclerosis. NeuroImage 2012;59:3774-3783.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synflair.errors import SynflairError

TISSUES = ("GM", "WM", "CSF")
#: Median absolute deviation to standard deviation for a normal distribution.
MAD_TO_SD = 1.4826
#: Fewest white-matter SDs between the CSF and the parenchyma (WM) modes of a brain FLAIR.
MIN_CSF_CONTRAST_SD = 2.0
#: Weight of the global WM mode in the local WM reference, as a fraction of a
#: neighbourhood full of pure WM.
PRIOR_WEIGHT = 0.1


@dataclass(frozen=True)
class TissueStats:
    """Robust FLAIR intensity statistics of one tissue.

    Attributes
    ----------
    location : float
        Median FLAIR intensity of the pure voxels.
    scale : float
        Robust SD (1.4826 MAD) of the pure voxels.
    n_voxels : int
        Number of pure voxels.
    lower_quartile : float
        25th percentile of the pure voxels' FLAIR intensity.
    """

    location: float
    scale: float
    n_voxels: int
    lower_quartile: float = float("nan")


@dataclass(frozen=True)
class IntensityReference:
    """Normal-tissue FLAIR reference of one subject.

    Attributes
    ----------
    tissues : dict of str -> TissueStats
        GM, WM and CSF.
    ceiling : float
        ``max(m_GM, m_WM)``: the brightest normal parenchyma.
    wm_location : float
        ``m_WM``.
    spread : float
        Lesion-robust SD of white matter (lower half), > 0.
    """

    tissues: dict
    ceiling: float
    wm_location: float
    spread: float


def pure_tissue(mask: np.ndarray, probs: Sequence[np.ndarray], purity: float,
                min_voxels: int) -> list[np.ndarray]:  # fmt: skip
    """Voxels of pure GM, WM and CSF (probability >= ``purity``); raises if too few."""
    out = []
    for name, prob in zip(TISSUES, probs, strict=True):
        pure = mask & (prob >= purity)
        n = int(pure.sum())
        if n < min_voxels:
            raise SynflairError(
                f"only {n} voxels with {name} probability >= {purity:g} inside the mask; "
                f"need {min_voxels} for the {name} intensity statistics "
                "(is the tissue map on the FLAIR grid and the segmentation sensible?)"
            )
        out.append(pure)
    return out


def _stats(values: np.ndarray) -> TissueStats:
    median = float(np.median(values))
    scale = MAD_TO_SD * float(np.median(np.abs(values - median)))
    return TissueStats(median, scale, int(values.size), float(np.percentile(values, 25)))


def lower_half_sd(values: np.ndarray, location: float) -> float:
    """Robust SD from the values below ``location`` (1.4826 x their median distance)."""
    below = values[values < location]
    if below.size == 0:
        return 0.0
    return MAD_TO_SD * float(np.median(location - below))


def intensity_reference(flair: np.ndarray, pure: Sequence[np.ndarray]) -> IntensityReference:
    """The normal-tissue reference of ``flair`` from its pure GM, WM and CSF voxels.

    Parameters
    ----------
    flair : numpy.ndarray, 3D
    pure : sequence of 3 numpy.ndarray of bool
        Pure GM, WM and CSF voxels (:func:`pure_tissue`).

    Returns
    -------
    IntensityReference
    """
    tissues = {name: _stats(flair[p]) for name, p in zip(TISSUES, pure, strict=True)}
    wm = tissues["WM"].location
    spread = lower_half_sd(flair[pure[1]], wm)
    return IntensityReference(
        tissues=tissues,
        ceiling=max(tissues["GM"].location, wm),
        wm_location=wm,
        spread=spread,
    )


def local_wm_location(
    flair: np.ndarray,
    pure_wm: np.ndarray,
    reference: IntensityReference,
    sigma_mm: float,
    voxel_size: Sequence[float],
    *,
    reject_sd: float = 2.0,
) -> np.ndarray:
    """The WM mode around each voxel: a Gaussian-weighted mean of the nearby pure WM.

    Regions whose normal WM is brighter or darker than the brain's (the posterior
    fossa, a residual coil profile) then have their own reference. Pure-WM voxels more
    than ``reject_sd`` SDs above the global WM mode, then above the first local
    estimate, are left out (lesions labelled WM). Where little WM is near, the estimate
    tends to the global mode: the global mode is a prior worth ``PRIOR_WEIGHT`` of a
    neighbourhood full of pure WM.

    Parameters
    ----------
    flair : numpy.ndarray, 3D
    pure_wm : numpy.ndarray of bool
    reference : IntensityReference
    sigma_mm : float
        Gaussian SD, mm.
    voxel_size : sequence of 3 float
        mm.
    reject_sd : float
        See above.

    Returns
    -------
    numpy.ndarray of float
    """
    from scipy import ndimage

    sigma = [sigma_mm / float(v) for v in voxel_size]
    prior = PRIOR_WEIGHT
    level = np.full(flair.shape, reference.wm_location)
    for _ in range(2):
        use = pure_wm & (flair <= level + reject_sd * reference.spread)
        weight = ndimage.gaussian_filter(use.astype(np.float64), sigma, mode="constant")
        total = ndimage.gaussian_filter(np.where(use, flair, 0.0), sigma, mode="constant")
        level = (total + prior * reference.wm_location) / (weight + prior)
    return level


def check_brain_contrast(reference: IntensityReference) -> None:
    """Refuse a FLAIR without a brain's GM/WM/CSF intensity structure.

    Raises
    ------
    SynflairError
        When white matter has no spread (a uniform image) or the darkest quarter of
        the pure CSF (its lower quartile) is not darker than white matter by
        ``MIN_CSF_CONTRAST_SD`` white-matter SDs (noise, a non-brain image, or tissue
        maps of another image).
    """
    t = reference.tissues
    figures = (
        f"FLAIR medians GM {t['GM'].location:.4g}, WM {t['WM'].location:.4g}, "
        f"CSF {t['CSF'].location:.4g}, WM SD {reference.spread:.3g}"
    )
    # a spread at float rounding level (a uniform image after bias correction) is none
    if not reference.wm_location > 0 or not reference.spread > 1e-4 * reference.wm_location:
        raise SynflairError(
            f"no plausible brain intensity structure: white matter is uniform or dark ({figures}); "
            "expected a brain FLAIR"
        )
    # The darkest quarter of the pure CSF, not its median: a synthetic FLAIR's CSF is
    # half unsuppressed where partial volume and flow corrupt the fit (its median can
    # reach the WM's), but its ventricles stay dark; in noise or a uniform image the
    # lower quartile is within 0.7 SD of the median.
    contrast = (reference.wm_location - t["CSF"].lower_quartile) / reference.spread
    if contrast < MIN_CSF_CONTRAST_SD:
        raise SynflairError(
            f"no plausible GM/WM/CSF intensity structure: the darkest quarter of CSF is only "
            f"{contrast:.2f} WM SDs darker than white matter ({figures}, CSF lower quartile "
            f"{t['CSF'].lower_quartile:.4g}); expected a brain FLAIR (CSF dark) whose "
            f"tissue maps belong to it (at least {MIN_CSF_CONTRAST_SD:g} SDs)"
        )
