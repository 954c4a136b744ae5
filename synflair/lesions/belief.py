"""Belief maps of FLAIR hyperintensity relative to the GM/WM/CSF intensity distributions.

In the spirit of the lesion growth algorithm of LST (Schmidt et al. 2012),
the FLAIR intensity of each voxel is compared with what its tissue
composition predicts:

0. optionally (``smoothing_mm``) the FLAIR is denoised, and (``bias_degree``)
   divided by a smooth multiplicative bias fitted to the pure GM and WM voxels
   (:mod:`synflair.lesions.bias`), so that a receive-coil profile is not
   mistaken for lesion;
1. per tissue ``t`` (GM, WM, CSF), the robust location ``m_t`` (median) and
   scale ``s_t`` (1.4826 x median absolute deviation) of FLAIR over the voxels
   whose tissue probability is at least ``purity``;
2. the expected intensity of a voxel, ``e = sum_t p_t m_t / sum_t p_t``, and
   spread ``s = sqrt(sum_t p_t s_t^2 / sum_t p_t)``: partial-volume voxels at
   tissue boundaries are compared with the mixture they contain;
3. the robust z-score ``z = (FLAIR - e) / s`` (it sets each lesion's boundary);
4. with ``gm_floor`` (default), the score of hyperintensity is taken against
   ``max(e, f)`` instead of ``e``, where ``f`` is the intensity the voxel would
   have if its parenchyma were all GM: a sharp segmentation that calls a GM/WM
   boundary voxel WM then does not make it hyperintense;
5. the belief ``b = clip((score - z_low) / (z_high - z_low), 0, 1) * (p_GM +
   p_WM) / sum_t p_t``, so that CSF cannot carry lesion belief.

T1-hypointense lesions are classified as GM-like by a T1w segmentation, so a
lesion must be hyperintense relative to GM, the brightest normal tissue of
FLAIR. References: Schmidt P, et al. NeuroImage 2012;59:3774-3783.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from synflair.errors import SynflairError
from synflair.lesions.bias import estimate_bias
from synflair.lesions.params import LesionParams

TISSUES = ("GM", "WM", "CSF")
#: Median absolute deviation to standard deviation for a normal distribution.
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class TissueStats:
    """Robust FLAIR intensity statistics of one tissue (global values).

    Attributes
    ----------
    location : float
        Median FLAIR intensity of the pure voxels.
    scale : float
        Robust SD (1.4826 MAD) of the pure voxels.
    n_voxels : int
        Number of pure voxels.
    """

    location: float
    scale: float
    n_voxels: int


def check_inputs(
    flair: np.ndarray, mask: np.ndarray, probs: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Validate and convert the inputs of the lesion segmentation.

    Raises
    ------
    SynflairError
        Different shapes, an empty mask, non-finite values, probabilities outside
        [0, 1], or a FLAIR that is zero throughout the mask.
    """
    flair = np.asarray(flair, dtype=np.float64)
    if flair.ndim != 3:
        raise SynflairError(f"FLAIR must be a 3D image, not shape {flair.shape}")
    mask = np.asarray(mask)
    if mask.shape != flair.shape:
        raise SynflairError(f"mask has shape {mask.shape}, expected the FLAIR shape {flair.shape}")
    mask = mask.astype(bool)
    if not mask.any():
        raise SynflairError("the intracranial mask is empty; expected at least one voxel")
    inside = flair[mask]
    if not np.all(np.isfinite(inside)):
        raise SynflairError("FLAIR has NaN or infinite values inside the mask")
    if not np.any(inside != 0):
        raise SynflairError(
            "FLAIR is zero everywhere inside the mask; does the mask belong to this image?"
        )
    checked = []
    for name, prob in zip(TISSUES, probs, strict=True):
        prob = np.asarray(prob, dtype=np.float64)
        if prob.shape != flair.shape:
            raise SynflairError(
                f"{name} probability map has shape {prob.shape}, expected {flair.shape}"
            )
        if not np.all(np.isfinite(prob[mask])):
            raise SynflairError(f"{name} probability map has NaN values inside the mask")
        low, high = float(prob[mask].min()), float(prob[mask].max())
        if low < -1e-3 or high > 1 + 1e-3:
            raise SynflairError(
                f"{name} probability map has values in [{low:g}, {high:g}]; expected [0, 1]"
            )
        checked.append(np.clip(prob, 0.0, 1.0) * mask)
    if not np.any(sum(checked)[mask] > 0):
        raise SynflairError("the tissue probability maps are zero everywhere inside the mask")
    return flair, mask, checked


def _smooth(image: np.ndarray, sigma_mm: float, voxel_size: Sequence[float]) -> np.ndarray:
    sigma = [sigma_mm / float(v) for v in voxel_size]
    return ndimage.gaussian_filter(image, sigma, mode="constant", cval=0.0)


def tissue_statistics(
    flair: np.ndarray, mask: np.ndarray, probs: Sequence[np.ndarray], params: LesionParams
) -> dict[str, TissueStats]:
    """Robust FLAIR intensity statistics of GM, WM and CSF.

    Parameters
    ----------
    flair : numpy.ndarray, 3D
    mask : numpy.ndarray of bool
    probs : sequence of 3 numpy.ndarray
        GM, WM and CSF probabilities in [0, 1].
    params : LesionParams
        ``purity`` and ``min_tissue_voxels``.

    Returns
    -------
    dict of str -> TissueStats

    Raises
    ------
    SynflairError
        When a tissue has fewer than ``params.min_tissue_voxels`` pure voxels.
    """
    stats = {}
    for name, pure in zip(TISSUES, pure_tissue(mask, probs, params), strict=True):
        values = flair[pure]
        median = float(np.median(values))
        scale = MAD_TO_SD * float(np.median(np.abs(values - median)))
        if not scale > 0:
            scale = float(np.std(values)) or 1e-6 * max(abs(median), 1.0)
        stats[name] = TissueStats(median, scale, int(pure.sum()))
    return stats


def pure_tissue(
    mask: np.ndarray, probs: Sequence[np.ndarray], params: LesionParams
) -> list[np.ndarray]:
    """Voxels of pure GM, WM and CSF (probability >= ``purity``); raises if too few."""
    out = []
    for name, prob in zip(TISSUES, probs, strict=True):
        pure = mask & (prob >= params.purity)
        n = int(pure.sum())
        if n < params.min_tissue_voxels:
            raise SynflairError(
                f"only {n} voxels with {name} probability >= {params.purity:g} inside the mask; "
                f"need {params.min_tissue_voxels} for the {name} intensity statistics "
                "(is the tissue map on the FLAIR grid and the segmentation sensible?)"
            )
        out.append(pure)
    return out


def belief_map(
    flair: np.ndarray,
    mask: np.ndarray,
    gm_prob: np.ndarray,
    wm_prob: np.ndarray,
    csf_prob: np.ndarray,
    params: LesionParams,
    *,
    voxel_size: Sequence[float] = (1.0, 1.0, 1.0),
) -> tuple[np.ndarray, np.ndarray, dict[str, TissueStats]]:
    """Belief of FLAIR hyperintensity (lesion) per voxel.

    Parameters
    ----------
    flair : numpy.ndarray, shape ``(X, Y, Z)``
        FLAIR image (any intensity scale; the statistics are the image's own).
    mask : numpy.ndarray of bool, same shape
        Intracranial mask.
    gm_prob, wm_prob, csf_prob : numpy.ndarray, same shape
        Tissue probabilities in [0, 1] (the segmentation's ``*_probseg`` maps).
    params : LesionParams
    voxel_size : sequence of 3 float
        Voxel size in mm (for ``bias_degree`` and ``smoothing_mm``).

    Returns
    -------
    belief : numpy.ndarray of float32, in [0, 1]
        Zero outside the mask.
    z : numpy.ndarray of float32
        Robust z-score against the expected tissue mixture, without the GM floor
        (0 outside the mask).
    stats : dict of str -> TissueStats
    """
    flair, mask, probs = check_inputs(flair, mask, (gm_prob, wm_prob, csf_prob))
    voxel_size = tuple(float(v) for v in voxel_size)
    if len(voxel_size) != 3 or not all(v > 0 for v in voxel_size):
        raise SynflairError(f"voxel_size must be 3 positive mm, not {voxel_size!r}")
    if params.smoothing_mm > 0:
        weight = _smooth(mask.astype(np.float64), params.smoothing_mm, voxel_size)
        flair = np.where(
            mask,
            _smooth(np.where(mask, flair, 0.0), params.smoothing_mm, voxel_size)
            / np.maximum(weight, 1e-6),
            0.0,
        )
    if params.bias_degree > 0:
        gm, wm, _ = pure_tissue(mask, probs, params)
        bias = estimate_bias(
            flair, (gm, wm), degree=params.bias_degree, voxel_size=voxel_size, mask=mask
        )
        flair = np.where(mask, flair / bias, 0.0)
    stats = tissue_statistics(flair, mask, probs, params)
    location = {name: stats[name].location for name in TISSUES}
    tissue = mask & (sum(probs) > 0)
    total = np.where(tissue, sum(probs), 1.0)
    expected = sum(p * location[t] for p, t in zip(probs, TISSUES, strict=True)) / total
    variance = sum(p * stats[t].scale ** 2 for p, t in zip(probs, TISSUES, strict=True)) / total
    variance = variance + (params.heterogeneity * np.maximum(expected, 0.0)) ** 2
    spread = np.sqrt(np.where(tissue & (variance > 0), variance, 1.0))
    z = np.where(tissue, (flair - expected) / spread, 0.0)
    parenchyma = (probs[0] + probs[1]) / total
    score = z
    if params.gm_floor:
        # The parenchyma counted as GM, the brightest normal tissue of FLAIR: a GM/WM boundary
        # voxel that a sharp segmentation calls WM is then not hyperintense.
        floor = parenchyma * location["GM"] + probs[2] / total * location["CSF"]
        score = np.where(tissue, (flair - np.maximum(expected, floor)) / spread, 0.0)
    ramp = np.clip((score - params.z_low) / (params.z_high - params.z_low), 0.0, 1.0)
    belief = np.where(tissue, ramp * parenchyma, 0.0)
    return belief.astype(np.float32), z.astype(np.float32), stats
