"""The phantom's template anatomy, built from nilearn's bundled MNI152 2009a maps.

nilearn ships the ICBM 2009a nonlinear symmetric T1 template with its GM and WM
probability maps at 1 mm inside its wheel (no download). The bundled T1 is
brain-extracted: it is non-zero on the brain mask (brain plus ventricles and
some sulcal CSF) and zero elsewhere. From these maps :func:`build_template`
derives, in this order:

1. the **intracranial volume** (ICV): the T1 brain mask closed morphologically
   (ball of ``closing_mm``; fills the gaps between gyri at the surface), its
   holes filled, then dilated by ``subarachnoid_mm`` (the subarachnoid space
   between the brain surface and the inner table of the skull); its fraction map
   is the binary ICV smoothed with a 0.6 mm Gaussian;
2. **WM and GM** fractions (the template maps / 255), *sharpened* and then
   scaled down where their sum exceeds the ICV fraction; **CSF** is what
   remains of the ICV. The 2009a maps are population averages: their tissue
   boundaries (ventricle walls, the cortical ribbon) are smeared over several
   mm, whereas an individual brain's boundaries are sharp at 1 mm. Smeared
   boundaries would make the single-compartment fit's partial-volume
   artifact (bright synthetic FLAIR at the brain-CSF boundary) several mm wide.
   So the parenchymal fraction ``p = wm + gm`` and the WM share ``q = wm / p``
   are each passed through a sigmoid of width ``sharpen`` centred on 0.5,
   rescaled to keep 0 and 1 fixed (:func:`sharpen`); for the default 0.1 the
   slope at 0.5 is 2.5 and a boundary's 10-90 % width shrinks 1.8-fold,
   without moving it;
3. **ventricles and cisterns**: CSF-dominant voxels deeper than 8 mm inside the
   ICV that survive a morphological opening (thin sulci do not), in components
   of at least 100 voxels;
4. the **signed distance to the ICV boundary** (mm, positive outside), from which
   :mod:`synflair.phantom.tissues` builds the skull and scalp layers;
5. the **parenchymal surface band** used for atrophy (signed distance to the
   parenchyma, its surface normal, and whether the nearest CSF is ventricular);
6. **lesion candidate** regions: periventricular and juxtacortical white matter.

The arrays are cropped to the head with a ``margin_mm`` border; the template is
cut at the foramen magnum (MNI z = -72 mm), so the lowest slices are repeated
downwards over the margin, which gives a crude neck below the brain.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "MNI_FILES",
    "AnatomySettings",
    "SurfaceBand",
    "Template",
    "build_template",
    "load_template",
    "mni_paths",
    "sharpen",
]

#: Map name -> file name inside ``nilearn/datasets/data``.
MNI_FILES = {
    "t1": "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    "gm": "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "wm": "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
}


@dataclass(frozen=True)
class AnatomySettings:
    """How the template is derived from the MNI maps (all distances in mm).

    Attributes
    ----------
    closing_mm : float
        Radius of the morphological closing of the brain mask.
    subarachnoid_mm : float
        Dilation of the closed brain mask to the inner table.
    margin_mm : int
        Border kept around the brain for the skull, the scalp and head motion.
    ventricle_depth_mm : float
        Minimal depth inside the ICV of ventricular and cisternal CSF.
    band_inner_mm : float
        Depth into the parenchyma over which atrophy fades out.
    sharpen : float
        Width of the sigmoid that sharpens the tissue maps (0: not sharpened).
    """

    closing_mm: float = 6.0
    subarachnoid_mm: float = 1.0
    margin_mm: int = 24
    ventricle_depth_mm: float = 8.0
    band_inner_mm: float = 6.0
    sharpen: float = 0.1

    def __post_init__(self):
        names = ("closing_mm", "subarachnoid_mm", "ventricle_depth_mm", "band_inner_mm", "sharpen")
        for name in names:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 mm, not {getattr(self, name)!r}")
        if int(self.margin_mm) < 0:
            raise ValueError(f"margin_mm must be >= 0, not {self.margin_mm!r}")


@dataclass(frozen=True, eq=False)
class SurfaceBand:
    """Voxels near the parenchymal surface, where atrophy moves the surface.

    Attributes
    ----------
    index : numpy.ndarray of int64, shape (n,)
        Flat indices into the template grid.
    distance : numpy.ndarray of float32, shape (n,)
        Signed distance to the parenchyma boundary, mm (positive inside).
    normal : numpy.ndarray of float32, shape (n, 3)
        Unit surface normal pointing into the parenchyma, in voxel axes.
    ventricular : numpy.ndarray of bool, shape (n,)
        True where the nearest CSF is ventricular or cisternal.
    """

    index: np.ndarray
    distance: np.ndarray
    normal: np.ndarray
    ventricular: np.ndarray


@dataclass(frozen=True, eq=False)
class Template:
    """Template anatomy on a 1 mm grid (shape ``(X, Y, Z)``).

    Attributes
    ----------
    affine : numpy.ndarray, shape (4, 4)
        Voxel to MNI152 RAS world, mm.
    icv, wm, gm : numpy.ndarray of float32
        Intracranial, white-matter and grey-matter fractions; ``wm + gm <= icv``.
    ventricles : numpy.ndarray of float32
        1 in ventricles and basal cisterns, else 0.
    icv_distance : numpy.ndarray of float32
        Signed distance to the ICV boundary, mm, positive outside the ICV.
    band : SurfaceBand
    periventricular, juxtacortical : numpy.ndarray of bool
        Lesion candidate voxels.
    """

    affine: np.ndarray
    icv: np.ndarray
    wm: np.ndarray
    gm: np.ndarray
    ventricles: np.ndarray
    icv_distance: np.ndarray
    band: SurfaceBand
    periventricular: np.ndarray
    juxtacortical: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid shape ``(X, Y, Z)``."""
        return self.icv.shape

    @property
    def csf(self) -> np.ndarray:
        """CSF fraction, ``icv - wm - gm`` (float32, >= 0)."""
        return np.clip(self.icv - self.wm - self.gm, 0.0, 1.0)


def mni_paths() -> dict[str, Path]:
    """Paths of the MNI152 2009a maps bundled in the installed nilearn wheel.

    Raises
    ------
    FileNotFoundError
        When nilearn is missing or lacks one of the maps.
    """
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nilearn is not installed; the phantom needs its MNI152 maps")
    data = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    paths = {name: data / file for name, file in MNI_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"nilearn's bundled MNI152 maps are missing: {missing}")
    return paths


def sharpen(fraction: np.ndarray, width: float) -> np.ndarray:
    """Steepen a fraction map about 0.5, keeping 0 -> 0 and 1 -> 1.

    .. math:: f' = \\frac{\\sigma((f - 1/2) / w) - \\sigma(-1/(2w))}
                         {\\sigma(1/(2w)) - \\sigma(-1/(2w))}

    with the logistic ``sigma``; ``width = 0`` returns ``fraction`` unchanged.
    """
    fraction = np.asarray(fraction, dtype=np.float32)
    if width == 0:
        return fraction
    low, high = (1.0 / (1.0 + np.exp(-e / (2.0 * width))) for e in (-1.0, 1.0))
    steep = 1.0 / (1.0 + np.exp(-(fraction - 0.5) / width))
    return np.clip((steep - low) / (high - low), 0.0, 1.0).astype(np.float32)


def _signed_distance(mask: np.ndarray) -> np.ndarray:
    """Signed distance (voxels) to the boundary of ``mask``: > 0 inside, < 0 outside."""
    from scipy import ndimage

    inside = ndimage.distance_transform_edt(mask)
    outside = ndimage.distance_transform_edt(~mask)
    return np.where(mask, inside - 0.5, 0.5 - outside).astype(np.float32)


def _bounding_box(mask: np.ndarray, margin: int):
    """Slices of the bounding box of ``mask`` grown by ``margin`` voxels (None if empty)."""
    if not mask.any():
        return None
    box = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        present = np.flatnonzero(mask.any(axis=other))
        box.append(slice(max(present[0] - margin, 0), present[-1] + 1 + margin))
    return tuple(box)


def _crop_and_pad(arrays: dict[str, np.ndarray], affine: np.ndarray, margin: int):
    """Crop to the brain's bounding box plus ``margin``; replicate the cut bottom."""
    box = _bounding_box(arrays["t1"] > 0, margin=0)
    low = [b.start for b in box]
    # Pad with zeros, except below the template's cut (z index 0): replicate there.
    out = {}
    for name, array in arrays.items():
        cropped = array[box]
        padded = np.pad(cropped, [(margin, margin), (margin, margin), (0, margin)])
        bottom_mode = "edge" if low[2] == 0 else "constant"
        out[name] = np.pad(padded, [(0, 0), (0, 0), (margin, 0)], mode=bottom_mode)
    shift = np.eye(4)
    shift[:3, 3] = np.array(low, dtype=float) - margin
    return out, affine @ shift


def build_template(
    t1: np.ndarray,
    gm: np.ndarray,
    wm: np.ndarray,
    affine: np.ndarray,
    settings: AnatomySettings = AnatomySettings(),
) -> Template:
    """Derive the phantom template from MNI-like maps (see the module docstring).

    Parameters
    ----------
    t1 : numpy.ndarray, shape (X, Y, Z)
        Brain-extracted T1 template; > 0 on the brain mask.
    gm, wm : numpy.ndarray, shape (X, Y, Z)
        Grey and white matter probabilities in [0, 1].
    affine : numpy.ndarray, shape (4, 4)
        Voxel to world (mm); the voxels must be 1 mm isotropic.
    settings : AnatomySettings

    Returns
    -------
    Template
    """
    _check_template_inputs(t1, gm, wm, affine)
    maps, affine = _crop_and_pad(
        {"t1": np.asarray(t1), "gm": np.asarray(gm), "wm": np.asarray(wm)},
        np.asarray(affine, dtype=float),
        int(settings.margin_mm),
    )
    brain = maps["t1"] > 0
    gm = np.clip(maps["gm"].astype(np.float32), 0, 1)
    wm = np.clip(maps["wm"].astype(np.float32), 0, 1)
    icv_mask, icv, icv_distance = _intracranial_volume(brain, settings)
    gm, wm = _sharpened_tissues(gm, wm, icv, settings)
    parenchyma = gm + wm
    csf_mask = icv_mask & (icv - parenchyma >= 0.5)
    ventricles = _ventricles(csf_mask, icv_distance, settings)
    near_ventricle, band = _surface_band(parenchyma, ventricles, icv_mask, settings)
    periventricular, juxtacortical = _lesion_candidates(gm, wm, ventricles, near_ventricle)
    return Template(
        affine=affine,
        icv=icv.astype(np.float32),
        wm=wm,
        gm=gm,
        ventricles=ventricles.astype(np.float32),
        icv_distance=icv_distance.astype(np.float32),
        band=band,
        periventricular=periventricular,
        juxtacortical=juxtacortical,
    )


def _check_template_inputs(t1, gm, wm, affine) -> None:
    zooms = np.linalg.norm(np.asarray(affine)[:3, :3], axis=0)
    if not np.allclose(zooms, 1.0, atol=1e-3):
        raise ValueError(f"template voxels must be 1 mm isotropic, not {zooms!r} mm")
    shapes = {np.shape(t1), np.shape(gm), np.shape(wm)}
    if len(shapes) != 1:
        raise ValueError(f"t1, gm and wm must have one shape, not {sorted(shapes)!r}")
    if not np.any(np.asarray(t1) > 0):
        raise ValueError("t1 must be positive on the brain mask, but it is nowhere > 0")


def _intracranial_volume(brain: np.ndarray, settings: AnatomySettings):
    """Step 1: the ICV mask (closing: dilate by r, erode by r - subarachnoid, fill holes), its
    smoothed fraction, and the signed distance to it (mm; inside: the erosion depth, >= 0.5)."""
    from scipy import ndimage

    dilated = ndimage.distance_transform_edt(~brain) <= settings.closing_mm
    depth = ndimage.distance_transform_edt(dilated).astype(np.float32)
    depth -= settings.closing_mm - settings.subarachnoid_mm
    icv_mask = ndimage.binary_fill_holes((depth > 0) | brain)
    icv = np.clip(ndimage.gaussian_filter(icv_mask.astype(np.float32), 0.6), 0, 1)
    icv[~ndimage.binary_dilation(icv_mask, iterations=2)] = 0.0
    outside = ndimage.distance_transform_edt(~icv_mask).astype(np.float32)
    icv_distance = np.where(icv_mask, -np.maximum(depth - 0.5, 0.5), outside - 0.5)
    return icv_mask, icv, icv_distance


def _sharpened_tissues(gm, wm, icv, settings: AnatomySettings):
    """Step 2: sharpened GM and WM fractions (float32) with WM + GM <= ICV."""
    parenchyma = gm + wm
    share = sharpen(
        np.where(parenchyma > 0, wm / np.maximum(parenchyma, 1e-6), 0), settings.sharpen
    )
    parenchyma = sharpen(np.clip(parenchyma, 0, 1), settings.sharpen)
    wm, gm = parenchyma * share, parenchyma * (1 - share)
    scale = np.where(parenchyma > icv, icv / np.maximum(parenchyma, 1e-6), 1.0)
    return (gm * scale).astype(np.float32), (wm * scale).astype(np.float32)


def _ventricles(csf_mask, icv_distance, settings: AnatomySettings) -> np.ndarray:
    """Step 3: ventricles and cisterns: deep CSF, opened, components of >= 100 voxels."""
    from scipy import ndimage

    deep = csf_mask & (icv_distance < -settings.ventricle_depth_mm)
    opened = ndimage.binary_opening(deep, ndimage.generate_binary_structure(3, 1), iterations=2)
    labels, n = ndimage.label(opened)
    sizes = ndimage.sum(opened, labels, np.arange(1, n + 1)) if n else np.zeros(0)
    return np.isin(labels, 1 + np.flatnonzero(sizes >= 100))


def _surface_band(parenchyma, ventricles, icv_mask, settings: AnatomySettings):
    """Step 5: the parenchymal surface band (distance, normal, ventricular side) and the
    voxels near the ventricles."""
    from scipy import ndimage

    par_mask = parenchyma >= 0.5
    par_distance = _signed_distance(par_mask)
    _, nearest = ndimage.distance_transform_edt(par_mask, return_indices=True)
    near_ventricle = ndimage.binary_dilation(ventricles, iterations=3)
    ventricular = np.where(par_mask, near_ventricle[tuple(nearest)], near_ventricle)
    del nearest
    in_band = icv_mask & (par_distance >= -3.0) & (par_distance <= settings.band_inner_mm)
    index = np.flatnonzero(in_band)
    smooth = ndimage.gaussian_filter(par_distance, 1.0)
    normal = np.stack([g.ravel()[index] for g in np.gradient(smooth)], axis=1)
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    normal = np.where(length > 0.1, normal / np.maximum(length, 1e-6), 0.0).astype(np.float32)
    band = SurfaceBand(
        index=index.astype(np.int64),
        distance=par_distance.ravel()[index].astype(np.float32),
        normal=normal,
        ventricular=ventricular.ravel()[index].astype(bool),
    )
    return near_ventricle, band


def _lesion_candidates(gm, wm, ventricles, near_ventricle):
    """Step 6: periventricular and juxtacortical lesion candidates (distances within a box
    around the ventricles)."""
    from scipy import ndimage

    box = _bounding_box(ventricles, margin=10)
    ventricle_distance = np.full(ventricles.shape, np.inf, dtype=np.float32)
    if box is not None:
        ventricle_distance[box] = ndimage.distance_transform_edt(~ventricles[box])
    periventricular = (wm >= 0.6) & (ventricle_distance >= 1.5) & (ventricle_distance <= 8.0)
    cortex = gm >= 0.5
    near_cortex = ndimage.binary_dilation(cortex, iterations=3)
    touching_cortex = ndimage.binary_dilation(cortex, iterations=1)
    juxtacortical = (wm >= 0.5) & near_cortex & ~touching_cortex & ~periventricular
    juxtacortical &= ~near_ventricle
    return periventricular, juxtacortical


@functools.lru_cache(maxsize=2)
def load_template(settings: AnatomySettings = AnatomySettings()) -> Template:
    """The template built from nilearn's bundled MNI152 2009a maps (cached per process)."""
    import nibabel as nib

    paths = mni_paths()
    images = {name: nib.load(str(path)) for name, path in paths.items()}
    t1 = np.asarray(images["t1"].dataobj)
    gm = np.asarray(images["gm"].dataobj, dtype=np.float32) / 255.0
    wm = np.asarray(images["wm"].dataobj, dtype=np.float32) / 255.0
    return build_template(t1, gm, wm, images["t1"].affine, settings)
