"""Lesion growth: seeds above the initial threshold grow into neighbours of lower belief.

The lesion map is the union of the connected components of ``belief >=
grow_threshold`` (within voxels that are not mostly CSF) that contain a seed,
``belief >= kappa``, and whose volume is at least ``min_volume_mm3``: the
growth step of LST's lesion growth algorithm (Schmidt et al., NeuroImage
2012;59:3774-3783) as a hysteresis threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from synflair.lesions.belief import belief_map
from synflair.lesions.detection import label_lesions
from synflair.lesions.params import LesionParams

#: The default parameters, applied alike to synthetic, DL and conventional FLAIR.
DEFAULT_PARAMS = LesionParams()


def _seeded_components(region, belief, params, voxel_volume):
    """Components of ``region`` holding a seed (belief >= kappa) and at least the minimum volume."""
    labels, n = label_lesions(region, params.connectivity)
    if n == 0:
        return labels, np.zeros(1, dtype=bool)
    keep = np.zeros(n + 1, dtype=bool)
    keep[np.unique(labels[region & (belief >= params.kappa)])] = True
    sizes = np.bincount(labels.ravel(), minlength=n + 1) * voxel_volume
    keep &= sizes >= params.min_volume_mm3
    keep[0] = False
    return labels, keep


def grow_lesions(
    belief: np.ndarray,
    candidates: np.ndarray,
    params: LesionParams,
    *,
    z: np.ndarray | None = None,
    voxel_size: Sequence[float] = (1.0, 1.0, 1.0),
) -> np.ndarray:
    """Seeded growth of lesions on a belief map.

    Parameters
    ----------
    belief : numpy.ndarray, 3D, values in [0, 1]
    candidates : numpy.ndarray of bool, same shape
        Voxels that may be lesion.
    params : LesionParams
        ``kappa``, ``grow_threshold``, ``connectivity``, ``min_volume_mm3`` and
        ``boundary_fraction``.
    z : numpy.ndarray, same shape, optional
        Hyperintensity z-scores; needed for ``params.boundary_fraction > 0``, which
        trims each grown lesion to the voxels whose z is at least that fraction of the
        lesion's peak z (the partial-volume half-maximum for 0.5), after which seeds and
        minimum volume are checked again.
    voxel_size : sequence of 3 float
        mm; the voxel volume converts ``min_volume_mm3`` to voxels.

    Returns
    -------
    numpy.ndarray of bool
    """
    belief = np.asarray(belief)
    voxel_volume = float(np.prod(voxel_size))
    region = np.asarray(candidates, dtype=bool) & (belief >= params.grow_threshold)
    labels, keep = _seeded_components(region, belief, params, voxel_volume)
    lesions = keep[labels]
    if params.boundary_fraction > 0 and lesions.any():
        if z is None:
            raise ValueError("boundary_fraction > 0 needs the z-score map")
        z = np.asarray(z, dtype=np.float64)
        index = np.arange(1, len(keep))
        peak = np.zeros(len(keep))
        peak[1:] = ndimage.maximum(z, labels, index=index)
        trimmed = lesions & (z >= params.boundary_fraction * peak[labels])
        labels, keep = _seeded_components(trimmed, belief, params, voxel_volume)
        lesions = keep[labels]
    return lesions


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
        Synthetic, DL or conventional FLAIR (any intensity scale).
    mask : numpy.ndarray of bool, same shape
        Intracranial mask.
    gm_prob, wm_prob, csf_prob : numpy.ndarray, same shape
        Tissue probabilities of the segmentation step, in [0, 1].
    params : LesionParams
    voxel_size : sequence of 3 float
        Voxel size, mm.

    Returns
    -------
    lesion_mask : numpy.ndarray of bool
    belief : numpy.ndarray of float32
        Belief of hyperintensity in [0, 1] (see :func:`synflair.lesions.belief.belief_map`).

    Raises
    ------
    SynflairError
        For inputs of different shapes, an empty mask, non-finite values, probabilities
        outside [0, 1], a FLAIR that is zero throughout the mask, or too few pure voxels
        of a tissue.
    """
    belief, z, _ = belief_map(
        flair, mask, gm_prob, wm_prob, csf_prob, params, voxel_size=voxel_size
    )
    candidates = np.asarray(mask, dtype=bool) & (np.asarray(csf_prob) <= params.max_csf_prob)
    lesions = grow_lesions(belief, candidates, params, z=z, voxel_size=voxel_size)
    return lesions, belief
