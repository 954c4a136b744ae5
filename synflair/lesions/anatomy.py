"""Where lesions cannot be: the cortical ribbon along the outer CSF, and tissue not embedded in WM.

FLAIR's brightest normal tissue is cortex, and a T1w or R1 segmentation
labels both cortex and T1-hypointense lesions GM, so the rule that removes
cortical false positives must not rely on lesion voxels being labelled WM.
It relies on the *surroundings* instead:

1. **Outer CSF**: the CSF voxels (probability > 0.5) that are not ventricles,
   plus everything outside the brain mask. Ventricles are the pieces of CSF
   that survive a morphological opening of radius ``opening_mm`` (thick CSF;
   sulci are thin) and lie deep in the brain (median distance from the brain
   surface >= ``ventricle_depth_mm``), dilated back by ``opening_mm``.
2. **Ribbon**: voxels within ``ribbon_mm`` of the outer CSF, where no lesion
   may start (a juxtacortical lesion seeded outside may grow into it). Cortex
   lines the sulci and the brain surface; periventricular lesions, along the
   ventricles, are not in the ribbon.
3. **Embedding**: a lesion (connected component) is kept only when at least
   ``wm_shell_fraction`` of the voxels in a ``shell_mm`` shell around it are
   WM (probability >= 0.5) or ventricle. A WM lesion is surrounded by normal
   WM (and ventricle) whatever its own label; a piece of cortex or deep GM is
   surrounded by GM and CSF.

All distances are in mm (anisotropic voxels, thick slices included).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

__all__ = ["outer_csf_distance", "shell_fraction", "ventricles"]


def _distance(region: np.ndarray, voxel_size: Sequence[float]) -> np.ndarray:
    """Distance (mm) of each voxel to the nearest voxel of ``region`` (0 inside it)."""
    if not region.any():
        return np.full(region.shape, np.inf)
    return ndimage.distance_transform_edt(~region, sampling=voxel_size)


def ventricles(
    csf: np.ndarray,
    mask: np.ndarray,
    voxel_size: Sequence[float],
    *,
    opening_mm: float = 2.0,
    depth_mm: float = 15.0,
) -> np.ndarray:
    """Ventricular CSF: thick (survives an opening) and deep (median depth >= ``depth_mm``).

    Parameters
    ----------
    csf : numpy.ndarray of bool
        CSF voxels.
    mask : numpy.ndarray of bool
        Brain mask (its outside is the brain surface).
    voxel_size : sequence of 3 float
        mm.
    opening_mm, depth_mm : float
        See the module docstring.

    Returns
    -------
    numpy.ndarray of bool
    """
    csf = csf & mask
    core = ndimage.distance_transform_edt(csf, sampling=voxel_size) > opening_mm
    thick = _distance(core, voxel_size) <= opening_mm
    labels, n = ndimage.label(thick)
    if n == 0:
        return np.zeros(mask.shape, dtype=bool)
    depth = ndimage.distance_transform_edt(mask, sampling=voxel_size)
    median = np.asarray(ndimage.median(depth, labels, np.arange(1, n + 1)))
    deep = np.flatnonzero(median >= depth_mm) + 1
    return (_distance(np.isin(labels, deep), voxel_size) <= opening_mm) & mask


def outer_csf_distance(
    csf_prob: np.ndarray,
    mask: np.ndarray,
    voxel_size: Sequence[float],
    *,
    opening_mm: float = 2.0,
    ventricle_depth_mm: float = 15.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (mm) to the nearest outer CSF (sulcal CSF or the outside of the brain mask).

    Parameters
    ----------
    csf_prob : numpy.ndarray
        CSF probability.
    mask : numpy.ndarray of bool
        Brain mask.
    voxel_size : sequence of 3 float
        mm.
    opening_mm, ventricle_depth_mm : float
        See :func:`ventricles`.

    Returns
    -------
    distance : numpy.ndarray of float
    ventricles : numpy.ndarray of bool
        The CSF not counted as outer (:func:`ventricles`).
    """
    mask = np.asarray(mask, dtype=bool)
    csf = (np.asarray(csf_prob) > 0.5) & mask
    inner = ventricles(csf, mask, voxel_size, opening_mm=opening_mm, depth_mm=ventricle_depth_mm)
    return _distance((csf & ~inner) | ~mask, voxel_size), inner


def shell_fraction(
    labels: np.ndarray,
    n: int,
    tissue: np.ndarray,
    mask: np.ndarray,
    voxel_size: Sequence[float],
    shell_mm: float,
    gap_mm: float = 0.0,
) -> np.ndarray:
    """Fraction of ``tissue`` in the shell of width ``shell_mm`` around each labelled component.

    The shell starts ``gap_mm`` from the component (its partial-volume rim is left
    out); each shell voxel belongs to its nearest component.

    Parameters
    ----------
    labels : numpy.ndarray of int
        0 background, 1..n components.
    n : int
    tissue : numpy.ndarray of bool
    mask : numpy.ndarray of bool
        Shell voxels outside the mask count as not ``tissue``.
    voxel_size : sequence of 3 float
    shell_mm : float
    gap_mm : float

    Returns
    -------
    numpy.ndarray, shape (n + 1,)
        Entry ``k`` for component ``k`` (entry 0 unused, 0); 0 for a component
        without shell.
    """
    out = np.zeros(n + 1)
    if n == 0:
        return out
    inside = labels > 0
    distance, index = ndimage.distance_transform_edt(~inside, sampling=voxel_size,
                                                     return_indices=True)  # fmt: skip
    shell = (distance > gap_mm) & (distance <= gap_mm + shell_mm)
    owner = labels[tuple(i[shell] for i in index)]
    counts = np.bincount(owner, minlength=n + 1).astype(float)
    hits = np.bincount(owner, weights=(tissue & mask)[shell].astype(float), minlength=n + 1)
    np.divide(hits, counts, out=out, where=counts > 0)
    out[0] = 0.0
    return out
