"""Intracranial mask from the quantitative maps, as synthetic MRI computes it.

SyMRI segments the intracranial volume from the maps themselves (Ambarki et
al. 2012): every voxel is placed in R1-R2-PD space, where white matter, grey
matter and CSF, and their partial-volume mixtures, occupy a region apart from
the extracranial tissues (fat and bone marrow: short T1; muscle and skin:
short T2; cortical bone and air: no signal). The voxels of that region are then
cleaned up morphologically. :func:`intracranial_mask` does this in four steps:

1. **Classify** (:func:`intracranial_tissue`): a fitted voxel is intracranial
   tissue when ``T1 >= t1_min``, ``T2 >= t2_min`` and PD >= ``pd_min`` times
   the PD of white matter (the median PD of the voxels that pass the T1 and T2
   tests with a WM-like ``T1 <= wm_t1_max`` and ``T2 <= wm_t2_max``). With the
   defaults (750 ms, 60 ms, 0.75) this keeps WM (T1 ~830 ms, T2 ~80 ms, PD
   ~68 %), GM, CSF, MS lesions and their mixtures, and rejects fat (T1 ~380 ms),
   marrow (T1 ~590, T2 ~50 ms) and muscle or skin (T2 ~50 ms). Because bone and
   air give no signal, a voxel that is partly CSF and partly bone keeps the T1
   and T2 of CSF but has PD = the CSF fraction x 100 %: the PD test sets where
   the edge falls, 0.75 x ~68 % = ~51 %, about half the voxel intracranial (the
   usual volume definition). Taking PD relative to white matter makes the mask
   independent of the PD normalization and of the global receive gain.
2. **Open** in-plane with a disk of radius ``opening_mm``: cuts thin bridges
   between the brain and scalp voxels that pass step 1 by partial volume.
3. **Keep the largest 3D connected component** (the intracranial space is one
   piece; the skull separates it from the scalp), then dilate it by the same
   disk within the voxels of step 1, which restores the edges and corners the
   opening removed but not the cut bridges.
4. **Fill holes**, slice by slice and in 3D (voxels inside the head that fail
   step 1: flow artifacts in CSF, vessels, noise).

References
----------
.. [1] Ambarki K, Lindqvist T, Wåhlin A, et al. Evaluation of automatic
   measurement of the intracranial volume based on quantitative MR imaging.
   AJNR Am J Neuroradiol 2012;33:1951-1956.
.. [2] West J, Warntjes JBM, Lundberg P. Novel whole brain segmentation and
   volume estimation using quantitative MRI. Eur Radiol 2012;22:998-1007.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = ["MaskSettings", "intracranial_mask", "intracranial_tissue"]


@dataclass(frozen=True)
class MaskSettings:
    """Thresholds and morphology radii of :func:`intracranial_mask`.

    Attributes
    ----------
    t1_min, t2_min : float
        Lowest T1 and T2 of intracranial tissue, ms.
    pd_min : float
        Lowest PD of intracranial tissue, as a fraction of the white-matter PD.
    wm_t1_max, wm_t2_max : float
        Highest T1 and T2 (ms) of the voxels that give the white-matter PD.
    opening_mm : float
        Radius of the in-plane opening disk, mm.
    """

    t1_min: float = 750.0
    t2_min: float = 60.0
    pd_min: float = 0.75
    wm_t1_max: float = 1100.0
    wm_t2_max: float = 110.0
    opening_mm: float = 2.0

    def __post_init__(self):
        names = ("t1_min", "t2_min", "pd_min", "wm_t1_max", "wm_t2_max", "opening_mm")
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, not {value!r}")
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, not {value!r}")


def _disk(radius_mm: float, voxel_size) -> np.ndarray | None:
    """In-plane disk footprint, shape (2a+1, 2b+1, 1); None if smaller than a voxel."""
    dx, dy = float(voxel_size[0]), float(voxel_size[1])
    a, b = int(radius_mm // dx), int(radius_mm // dy)
    if a == 0 and b == 0:
        return None
    i, j = np.mgrid[-a : a + 1, -b : b + 1]
    return ((i * dx) ** 2 + (j * dy) ** 2 <= radius_mm**2)[:, :, None]


def _fill_holes(mask: np.ndarray, *, per_slice: bool) -> np.ndarray:
    """Fill the background components of a 3D ``mask`` that do not touch its border.

    With ``per_slice`` each slice (last axis) is filled as a 2D image.
    """
    structure = ndimage.generate_binary_structure(3, 1)
    if per_slice:
        structure[:, :, 0] = structure[:, :, 2] = False
    labels, n = ndimage.label(~mask, structure=structure)
    if n == 0:
        return mask
    border = np.zeros(n + 1, dtype=bool)
    for axis in range(2 if per_slice else 3):
        for index in (0, -1):
            border[np.unique(np.take(labels, index, axis=axis))] = True
    border[0] = True
    return mask | ~border[labels]


def intracranial_tissue(t1, t2, pd, valid=None, settings: MaskSettings | None = None):
    """Step 1 of :func:`intracranial_mask`: voxels whose (T1, T2, PD) look intracranial.

    Parameters
    ----------
    t1, t2 : numpy.ndarray
        ms.
    pd : numpy.ndarray
        Proton density, any scale (only PD relative to white matter is used).
    valid : numpy.ndarray of bool, optional
        Fitted voxels (default: ``t1 > 0``).
    settings : MaskSettings, optional

    Returns
    -------
    numpy.ndarray of bool
        Where no voxel is WM-like, the PD reference is the median PD of all
        voxels that pass the T1 and T2 tests.
    """
    settings = settings or MaskSettings()
    t1, t2, pd = np.asarray(t1), np.asarray(t2), np.asarray(pd)
    if not t1.shape == t2.shape == pd.shape:
        raise ValueError(
            f"t1, t2 and pd must have one shape, not {t1.shape}, {t2.shape}, {pd.shape}"
        )
    valid = t1 > 0 if valid is None else np.asarray(valid, dtype=bool)
    tissue = valid & (t1 >= settings.t1_min) & (t2 >= settings.t2_min)
    if not tissue.any():
        return tissue
    white = tissue & (t1 <= settings.wm_t1_max) & (t2 <= settings.wm_t2_max)
    reference = np.median(pd[white if white.any() else tissue])
    return tissue & (pd >= settings.pd_min * reference)


def intracranial_mask(
    t1,
    t2,
    pd,
    valid=None,
    *,
    voxel_size=(1.0, 1.0, 1.0),
    settings: MaskSettings | None = None,
) -> np.ndarray:
    """Intracranial mask from T1, T2 and PD maps (see the module docstring).

    Parameters
    ----------
    t1, t2 : numpy.ndarray, shape (X, Y, Z)
        ms; axial slices along the last axis.
    pd : numpy.ndarray, shape (X, Y, Z)
        Proton density (any scale; e.g. percent of water).
    valid : numpy.ndarray of bool, optional
        Fitted voxels (default: ``t1 > 0``).
    voxel_size : (float, float, float)
        Voxel spacing, mm (e.g. ``nibabel`` header zooms).
    settings : MaskSettings, optional

    Returns
    -------
    numpy.ndarray of bool, shape (X, Y, Z)
        Empty when no voxel looks intracranial.
    """
    settings = settings or MaskSettings()
    tissue = intracranial_tissue(t1, t2, pd, valid, settings)
    if tissue.ndim != 3:
        raise ValueError(f"maps must be 3D (X, Y, Z), not shape {tissue.shape}")
    voxel_size = tuple(float(v) for v in voxel_size)
    if len(voxel_size) != 3 or not all(math.isfinite(v) and v > 0 for v in voxel_size):
        raise ValueError(f"voxel_size must be 3 positive mm values, not {voxel_size!r}")

    opening = _disk(settings.opening_mm, voxel_size)
    mask = ndimage.binary_opening(tissue, structure=opening) if opening is not None else tissue
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    mask = labels == np.argmax(sizes)
    if opening is not None:
        mask = ndimage.binary_dilation(mask, structure=opening, mask=tissue)

    mask = _fill_holes(mask, per_slice=True)
    mask = _fill_holes(mask, per_slice=False)
    return mask
