"""Belief of FLAIR hyperintensity against the subject's own normal GM and WM.

In the spirit of the lesion growth algorithm of LST (Schmidt et al. 2012):

0. optionally (``smoothing_mm``) the FLAIR is denoised, and (``bias_degree``)
   divided by a smooth multiplicative bias fitted to the pure GM and WM voxels
   (:mod:`synflair.lesions.bias`), so that a receive-coil profile is not
   mistaken for lesion;
1. the normal-tissue reference (:mod:`synflair.lesions.reference`): the GM
   and WM modes of the FLAIR and the lesion-robust SD ``s`` of white matter;
2. the hyperintensity score ``z = (FLAIR - max(m_GM, m_WM)) / s_eff``: how far
   a voxel is above the *brightest* normal parenchyma, whatever its tissue
   label (T1-hypointense lesions are labelled GM by a T1w or R1 segmentation;
   their score is the same as if they were labelled WM), with ``s_eff =
   max(s, heterogeneity * max(m_GM, m_WM))``: on an almost noise-free image
   (a phantom, a denoised or DL FLAIR) the thresholds become relative contrasts
   (with the defaults a seed is then >= 12% brighter than the ceiling);
3. ``z_wm`` and ``z_tissue``, the same against the WM mode and against the
   intensity the voxel's tissue probabilities predict (the lesion boundary,
   :mod:`synflair.lesions.segment`);
4. the belief ``b = clip((z - z_low) / (z_high - z_low), 0, 1)``, zero
   outside the mask.

Partial-volume voxels with CSF are darker than the reference, so tissue
boundaries with CSF cannot become hyperintense; the cortical ribbon, the
brightest normal tissue, is handled by :mod:`synflair.lesions.anatomy`.

References
----------
.. [1] Schmidt P, et al. An automated tool for detection of FLAIR-hyperintense
   white-matter lesions in multiple sclerosis. NeuroImage 2012;59:3774-3783.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from synflair.errors import SynflairError
from synflair.lesions.bias import estimate_bias
from synflair.lesions.params import LesionParams
from synflair.lesions.reference import (
    TISSUES,
    IntensityReference,
    TissueStats,
    check_brain_contrast,
    intensity_reference,
    local_wm_location,
    pure_tissue,
)

__all__ = ["BeliefMaps", "TissueStats", "belief_map", "check_inputs"]


@dataclass(frozen=True, eq=False)
class BeliefMaps:
    """What :func:`belief_map` computes.

    Attributes
    ----------
    belief : numpy.ndarray of float32
        Belief of lesion in [0, 1], zero outside the mask.
    z : numpy.ndarray of float32
        Hyperintensity against the brighter of the GM and WM modes, in effective
        WM SDs (0 outside the mask).
    z_wm : numpy.ndarray of float32
        The same against the WM mode.
    z_tissue : numpy.ndarray of float32
        The same against the intensity the voxel's GM and WM probabilities predict
        (their weighted modes; the ceiling where the voxel is all CSF): contrast above
        the local background, for the lesion boundary.
    reference : IntensityReference
    """

    belief: np.ndarray
    z: np.ndarray
    z_wm: np.ndarray
    z_tissue: np.ndarray
    reference: IntensityReference

    @property
    def stats(self) -> dict[str, TissueStats]:
        """Robust FLAIR statistics of GM, WM and CSF."""
        return self.reference.tissues


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


def _smooth_inside(image: np.ndarray, mask: np.ndarray, sigma_mm: float, voxel_size) -> np.ndarray:
    """Gaussian smoothing that does not mix in the zeros outside the mask."""
    sigma = [sigma_mm / float(v) for v in voxel_size]
    weight = ndimage.gaussian_filter(mask.astype(np.float64), sigma, mode="constant")
    smooth = ndimage.gaussian_filter(np.where(mask, image, 0.0), sigma, mode="constant")
    return np.where(mask, smooth / np.maximum(weight, 1e-6), 0.0)


def belief_map(
    flair: np.ndarray,
    mask: np.ndarray,
    gm_prob: np.ndarray,
    wm_prob: np.ndarray,
    csf_prob: np.ndarray,
    params: LesionParams,
    *,
    voxel_size: Sequence[float] = (1.0, 1.0, 1.0),
) -> BeliefMaps:
    """Belief of FLAIR hyperintensity (lesion) per voxel.

    Parameters
    ----------
    flair : numpy.ndarray, shape ``(X, Y, Z)``
        FLAIR image (any intensity scale; the statistics are the image's own).
    mask : numpy.ndarray of bool, same shape
        Intracranial (brain) mask.
    gm_prob, wm_prob, csf_prob : numpy.ndarray, same shape
        Tissue probabilities in [0, 1] (a T1w- or R1-based segmentation).
    params : LesionParams
    voxel_size : sequence of 3 float
        Voxel size in mm.

    Returns
    -------
    BeliefMaps

    Raises
    ------
    SynflairError
        Invalid inputs (:func:`check_inputs`), too few pure voxels of a tissue, or a
        FLAIR without a brain's intensity structure.
    """
    flair, mask, probs = check_inputs(flair, mask, (gm_prob, wm_prob, csf_prob))
    voxel_size = tuple(float(v) for v in voxel_size)
    if len(voxel_size) != 3 or not all(v > 0 for v in voxel_size):
        raise SynflairError(f"voxel_size must be 3 positive mm, not {voxel_size!r}")
    if params.smoothing_mm > 0:
        flair = _smooth_inside(flair, mask, params.smoothing_mm, voxel_size)
    pure = pure_tissue(mask, probs, params.purity, params.min_tissue_voxels)
    if params.bias_degree > 0:
        bias = estimate_bias(flair, pure[:2], degree=params.bias_degree, voxel_size=voxel_size,
                             mask=mask)  # fmt: skip
        flair = np.where(mask, flair / bias, 0.0)
    reference = intensity_reference(flair, pure)
    check_brain_contrast(reference)
    spread = max(reference.spread, params.heterogeneity * reference.ceiling)
    wm_level = reference.wm_location
    if params.local_mm > 0:
        wm_level = local_wm_location(flair, pure[1], reference, params.local_mm, voxel_size)
    ceiling = wm_level * (reference.ceiling / reference.wm_location)
    z = np.where(mask, (flair - ceiling) / spread, 0.0)
    z_wm = np.where(mask, (flair - wm_level) / spread, 0.0)
    scale = wm_level / reference.wm_location  # 1, or the regional WM level
    # The parenchyma the voxel would be (CSF left out: a FLAIR-bright voxel the T1 calls
    # CSF is a T1-dark lesion core, whose background is parenchyma).
    gm, wm = probs[0], probs[1]
    parenchyma = gm + wm
    expected = (gm * reference.tissues["GM"].location + wm * reference.wm_location) / np.where(
        parenchyma > 0.05, parenchyma, 1.0
    )
    expected = np.where(parenchyma > 0.05, expected * scale, ceiling)
    z_tissue = np.where(mask, (flair - expected) / spread, 0.0)
    belief = np.where(mask, np.clip((z - params.z_low) / (params.z_high - params.z_low), 0, 1), 0)
    return BeliefMaps(
        belief=belief.astype(np.float32),
        z=z.astype(np.float32),
        z_wm=z_wm.astype(np.float32),
        z_tissue=z_tissue.astype(np.float32),
        reference=reference,
    )
