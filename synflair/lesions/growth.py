"""Lesion growth: seeds above the initial threshold grow into neighbours of lower belief.

The lesion map is the union of the connected components of the growable
voxels (``belief >= grow_threshold``, or whatever the caller allows) that
contain a seed (``belief >= kappa``) and whose volume is at least
``min_volume_mm3``: the growth step of LST's lesion growth algorithm (Schmidt
et al., NeuroImage 2012;59:3774-3783) as a hysteresis threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from synflair.lesions.detection import label_lesions
from synflair.lesions.params import LesionParams

__all__ = ["grow_lesions"]


def _seeded_components(region, seeds, params, voxel_volume):
    """Components of ``region`` holding a seed and at least the minimum volume."""
    labels, n = label_lesions(region, params.connectivity)
    if n == 0:
        return labels, np.zeros(1, dtype=bool)
    keep = np.zeros(n + 1, dtype=bool)
    keep[np.unique(labels[region & seeds])] = True
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
    seeds: np.ndarray | None = None,
    growable: np.ndarray | None = None,
    extra_seeds: np.ndarray | None = None,
) -> np.ndarray:
    """Seeded growth of lesions on a belief map.

    Parameters
    ----------
    belief : numpy.ndarray, 3D, values in [0, 1]
    candidates : numpy.ndarray of bool, same shape
        Voxels that may be lesion at all.
    params : LesionParams
        ``kappa``, ``grow_threshold``, ``connectivity``, ``min_volume_mm3`` and
        ``boundary_fraction``.
    z : numpy.ndarray, same shape, optional
        Hyperintensity scores; needed for ``params.boundary_fraction > 0``, which
        trims each grown lesion to the voxels whose score is at least that fraction
        of the lesion's peak, after which seeds and minimum volume are checked again.
    voxel_size : sequence of 3 float
        mm; the voxel volume converts ``min_volume_mm3`` to voxels.
    seeds : numpy.ndarray of bool, optional
        Voxels allowed to seed (default: all); a seed also needs ``belief >= kappa``.
    growable : numpy.ndarray of bool, optional
        Extra voxels the lesions may grow into besides ``belief >= grow_threshold``
        (e.g. T1-hypointense voxels brighter than WM).
    extra_seeds : numpy.ndarray of bool, optional
        Voxels that seed whatever their belief (e.g. local maxima of contrast), if
        also allowed by ``seeds`` and inside the region the lesions grow in.

    Returns
    -------
    numpy.ndarray of bool
    """
    belief = np.asarray(belief)
    candidates = np.asarray(candidates, dtype=bool)
    voxel_volume = float(np.prod(voxel_size))
    region = belief >= params.grow_threshold
    if growable is not None:
        region |= np.asarray(growable, dtype=bool)
    region &= candidates
    seed = belief >= params.kappa
    if extra_seeds is not None:
        seed |= np.asarray(extra_seeds, dtype=bool)
    if seeds is not None:
        seed &= np.asarray(seeds, dtype=bool)
    labels, keep = _seeded_components(region, seed, params, voxel_volume)
    lesions = keep[labels]
    if params.boundary_fraction > 0 and lesions.any():
        if z is None:
            raise ValueError("boundary_fraction > 0 needs the z-score map")
        z = np.asarray(z, dtype=np.float64)
        peak = np.zeros(len(keep))
        peak[1:] = ndimage.maximum(z, labels, index=np.arange(1, len(keep)))
        trimmed = lesions & (z >= params.boundary_fraction * peak[labels])
        labels, keep = _seeded_components(trimmed, seed, params, voxel_volume)
        lesions = keep[labels]
    return lesions
