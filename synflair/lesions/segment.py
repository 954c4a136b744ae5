"""The lesion segmentation of one FLAIR: belief, anatomy, growth and embedding, composed.

:func:`segment_lesions` is what ``synflair lesions`` and the workflow run:

1. the belief of hyperintensity against the subject's own GM/WM
   (:func:`synflair.lesions.belief.belief_map`);
2. the cortical ribbon along the outer CSF (:mod:`synflair.lesions.anatomy`):
   no lesion starts there;
3. seeds (belief >= ``kappa``, CSF probability <= ``max_csf_prob``, outside the
   ribbon) grown into neighbours with belief >= ``grow_threshold``, or
   T1-hypointense (WM probability < 0.5) with a score >= ``t1_growth_z``, then
   trimmed to ``boundary_fraction`` of each lesion's peak contrast above WM
   (:func:`synflair.lesions.growth.grow_lesions`); with ``local_seed_score`` > 0,
   voxels that stand out from their immediate surroundings
   (:func:`synflair.lesions.contrast.local_contrast`) seed too;
4. lesions not embedded in WM (``wm_shell_fraction``; unless their peak score
   reaches ``shell_exempt_z``, brighter than any cortex), or whose mean score is
   below ``min_mean_z`` (a faint, diffuse region around one bright voxel: normal
   FLAIR-bright WM, not a lesion), removed.

The volume is cropped to the brain mask's bounding box first (speed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from synflair.lesions.anatomy import outer_csf_distance, shell_fraction
from synflair.lesions.belief import BeliefMaps, belief_map, check_inputs
from synflair.lesions.contrast import local_contrast
from synflair.lesions.detection import label_lesions
from synflair.lesions.growth import grow_lesions
from synflair.lesions.params import LesionParams

__all__ = ["DEFAULT_PARAMS", "LesionSegmentation", "segment", "segment_lesions"]

#: The default parameters, applied alike to synthetic, DL, conventional and real FLAIR.
DEFAULT_PARAMS = LesionParams()


@dataclass(frozen=True, eq=False)
class LesionSegmentation:
    """Result of :func:`segment`.

    Attributes
    ----------
    lesions : numpy.ndarray of bool
    belief : numpy.ndarray of float32
        Belief of lesion in [0, 1], zero outside the mask.
    maps : BeliefMaps
        The belief step's maps (on the cropped grid) and the intensity reference.
    """

    lesions: np.ndarray
    belief: np.ndarray
    maps: BeliefMaps


def _bounding_box(mask: np.ndarray, margin: int = 2) -> tuple[slice, ...]:
    idx = np.argwhere(mask)
    lo = np.maximum(idx.min(axis=0) - margin, 0)
    hi = np.minimum(idx.max(axis=0) + margin + 1, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))


def _local_seeds(maps, mask, wm, csf, params, voxel_size):
    """Voxels that stand out from their immediate surroundings (``local_seed_score``; None: off)."""
    if params.local_seed_score <= 0:
        return None
    # Surroundings: parenchyma (CSF is dark on FLAIR); normalised over pure WM; responses
    # smaller than a quarter of the score's SD are not resolved (almost noise-free images).
    contrast = local_contrast(maps.z, mask, mask & (csf < 0.5), mask & (wm >= params.purity),
                              voxel_size, min_spread=0.25)  # fmt: skip
    return (contrast >= params.local_seed_score) & (maps.z >= params.local_seed_z)


def _kept(lesions, maps, mask, wm, inner, params, voxel_size):
    """The lesions embedded in WM, bright enough on average, and (outside WM) bright at the peak."""
    labels, n = label_lesions(lesions, params.connectivity)
    index = np.arange(1, n + 1)
    keep = np.ones(n + 1, dtype=bool)
    peak_z = np.zeros(n + 1)
    peak_z[1:] = ndimage.maximum(maps.z, labels, index)
    if params.wm_shell_fraction > 0:
        embedded = shell_fraction(labels, n, (wm >= 0.5) | inner, mask, voxel_size,
                                  params.shell_mm) >= params.wm_shell_fraction  # fmt: skip
        keep &= embedded | (peak_z >= params.shell_exempt_z)
    contrast = np.zeros(n + 1)
    contrast[1:] = ndimage.mean(maps.z, labels, index)
    keep &= contrast >= params.min_mean_z
    # A faint hyperintensity in tissue the T1/R1 calls GM is normal GM variation; a
    # T1-hypointense lesion labelled GM is brighter than that.
    in_wm = np.zeros(n + 1)
    in_wm[1:] = ndimage.mean(wm, labels, index)
    keep &= (in_wm >= 0.5) | (peak_z >= params.gm_peak_z)
    keep[0] = False
    return keep[labels]


def segment(
    flair: np.ndarray,
    mask: np.ndarray,
    gm_prob: np.ndarray,
    wm_prob: np.ndarray,
    csf_prob: np.ndarray,
    params: LesionParams = DEFAULT_PARAMS,
    *,
    voxel_size: Sequence[float] = (1.0, 1.0, 1.0),
) -> LesionSegmentation:
    """Unsupervised segmentation of FLAIR-hyperintense lesions, with its intermediate maps.

    Parameters are those of :func:`segment_lesions`.

    Returns
    -------
    LesionSegmentation
    """
    flair, mask, probs = check_inputs(flair, mask, (gm_prob, wm_prob, csf_prob))
    box = _bounding_box(mask)
    flair, mask = flair[box], mask[box]
    gm, wm, csf = (p[box] for p in probs)
    maps = belief_map(flair, mask, gm, wm, csf, params, voxel_size=voxel_size)
    distance, inner = outer_csf_distance(csf, mask, voxel_size,
                                         ventricle_depth_mm=params.ventricle_depth_mm)  # fmt: skip
    outside_ribbon = mask & (distance > params.ribbon_mm)
    # LST-LGA's growth: into T1-hypointense neighbours (the T1/R1 calls them GM or CSF)
    # that are FLAIR-hyperintense, at a lower score than elsewhere.
    growable = (wm < 0.5) & (maps.z >= params.t1_growth_z)
    local = _local_seeds(maps, mask, wm, csf, params, voxel_size)
    lesions = grow_lesions(maps.belief, mask, params, z=maps.z_tissue, voxel_size=voxel_size,
                           seeds=outside_ribbon & (csf <= params.max_csf_prob),
                           growable=growable, extra_seeds=local)  # fmt: skip
    if lesions.any():
        lesions = _kept(lesions, maps, mask, wm, inner, params, voxel_size)
    full = np.zeros(probs[0].shape, dtype=bool)
    full[box] = lesions
    belief = np.zeros(probs[0].shape, dtype=np.float32)
    belief[box] = maps.belief
    return LesionSegmentation(lesions=full, belief=belief, maps=maps)


def segment_lesions(
    flair: np.ndarray,
    mask: np.ndarray,
    gm_prob: np.ndarray,
    wm_prob: np.ndarray,
    csf_prob: np.ndarray,
    params: LesionParams = DEFAULT_PARAMS,
    *,
    voxel_size: Sequence[float] = (1.0, 1.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Unsupervised segmentation of FLAIR-hyperintense lesions.

    Parameters
    ----------
    flair : numpy.ndarray, shape ``(X, Y, Z)``
        Synthetic, DL, conventional or real FLAIR (any intensity scale).
    mask : numpy.ndarray of bool, same shape
        Brain (intracranial) mask.
    gm_prob, wm_prob, csf_prob : numpy.ndarray, same shape
        Tissue probabilities of a T1w- or R1-based segmentation, in [0, 1].
    params : LesionParams
    voxel_size : sequence of 3 float
        Voxel size, mm.

    Returns
    -------
    lesion_mask : numpy.ndarray of bool
    belief : numpy.ndarray of float32
        Belief of lesion in [0, 1].

    Raises
    ------
    SynflairError
        For inputs of different shapes, an empty mask, non-finite values, probabilities
        outside [0, 1], a FLAIR that is zero throughout the mask, too few pure voxels
        of a tissue, or a FLAIR without a brain's intensity structure.
    """
    result = segment(flair, mask, gm_prob, wm_prob, csf_prob, params, voxel_size=voxel_size)
    return result.lesions, result.belief
