"""A FLAIR with known lesions, simulated from nilearn's bundled MNI152 tissue maps.

Until the digital phantom lands, the lesion segmentation is tested on this:
the MNI152 2009a GM/WM maps at 1 mm (CSF is the rest of a filled, closed brain
mask), white-matter lesion ellipsoids with their own relaxation times, the
conventional FLAIR signal equation (``synflair.physics.CONVENTIONAL_FLAIR``),
a smooth receive bias, Rician noise, and a thick-slice grid (2 x 2 mm in
plane, 4 mm slices with a 1 mm gap) whose partial volume comes from block
averaging. The "segmentation" tissue probabilities are the thick-slice tissue
fractions with the lesion fraction counted as GM, as a T1w segmentation sees
T1-hypointense lesions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import nilearn
import numpy as np
from scipy import ndimage

from synflair.physics import CONVENTIONAL_FLAIR

DATA = Path(nilearn.__file__).parent / "datasets" / "data"
# (T1 ms, T2 ms, PD) at 3 T; see docs/design.md "Physics" and docs/phantom.md.
TISSUE = {"GM": (1330.0, 100.0, 0.79), "WM": (830.0, 75.0, 0.67), "CSF": (4000.0, 1500.0, 1.0)}
VOXEL = (2.0, 2.0, 5.0)  # mm: in-plane 2 mm; 4 mm slice + 1 mm gap


@dataclass(frozen=True)
class SimulatedFlair:
    flair: np.ndarray
    mask: np.ndarray
    gm: np.ndarray
    wm: np.ndarray
    csf: np.ndarray
    truth: np.ndarray
    lesion_fraction: np.ndarray
    affine: np.ndarray
    voxel_size: tuple[float, float, float]


def _load(name: str) -> np.ndarray:
    path = DATA / f"mni_icbm152_{name}_tal_nlin_sym_09a_converted.nii.gz"
    return np.asarray(nib.load(path).dataobj, dtype=np.float32) / 255.0


@functools.cache
def mni_fractions(z_range: tuple[int, int] = (60, 140)):
    """GM, WM, CSF fractions and the intracranial mask at 1 mm (cropped, axial slab)."""
    gm, wm = _load("gm"), _load("wm")
    brain = gm + wm > 0.2
    idx = np.argwhere(brain)
    lo = np.maximum(idx.min(0) - 6, 0)
    hi = idx.max(0) + 7
    crop = (slice(lo[0], hi[0]), slice(lo[1], hi[1]), slice(*z_range))
    gm, wm = gm[crop], wm[crop]
    closed = ndimage.binary_closing(gm + wm > 0.2, iterations=4)
    mask = ndimage.binary_dilation(ndimage.binary_fill_holes(closed), iterations=2)
    csf = np.clip(1.0 - gm - wm, 0.0, 1.0) * mask
    total = np.maximum(gm + wm + csf, 1e-6)
    arrays = (gm / total * mask, wm / total * mask, csf / total * mask, mask)
    for array in arrays:
        array.flags.writeable = False  # cached: shared between simulations
    return arrays


@functools.cache
def lesion_sites() -> dict[str, np.ndarray]:
    """Candidate lesion centres (voxel indices of :func:`mni_fractions`) by location."""
    gm, wm, csf, mask = mni_fractions()
    inner = ndimage.distance_transform_edt(mask) > 12
    ventricles = (csf > 0.9) & inner
    near_ventricles = ndimage.distance_transform_edt(~ventricles) <= 3
    near_cortex = ndimage.distance_transform_edt(~(gm > 0.5)) <= 2
    return {
        "deep": np.argwhere(ndimage.binary_erosion(wm > 0.95, iterations=2)),
        "periventricular": np.argwhere((wm > 0.5) & near_ventricles & ~ventricles),
        "juxtacortical": np.argwhere((wm > 0.5) & near_cortex & ~(csf > 0.2)),
    }


def _downsample(volume: np.ndarray) -> np.ndarray:
    """2x2 in-plane block average; 4 of every 5 slices averaged (4 mm slice, 1 mm gap)."""
    x, y, z = (s - s % d for s, d in zip(volume.shape, (2, 2, 5), strict=True))
    v = volume[:x, :y, :z].reshape(x // 2, 2, y // 2, 2, z // 5, 5)
    return v[..., :4].mean(axis=(1, 3, 5))


def simulate(
    rng: np.random.Generator,
    *,
    n_lesions: int = 14,
    radius_mm: tuple[float, float] = (2.5, 6.0),
    noise: float = 0.03,
    bias: float = 0.15,
    lesion_as: str = "GM",
    where: str = "deep",
    posterior_power: float = 1.0,
) -> SimulatedFlair:
    """Conventional FLAIR with ``n_lesions`` WM lesions on a thick-slice grid.

    ``where``: lesion centres in ``"deep"`` white matter, ``"periventricular"`` (within
    3 mm of the ventricles) or ``"juxtacortical"`` (white matter within 2 mm of cortex).
    ``posterior_power`` > 1 sharpens the tissue probabilities towards hard labels, as the
    posteriors of Atropos are.
    """
    gm, wm, csf, mask = mni_fractions()
    shape = gm.shape
    sites = lesion_sites()[where]
    centres = sites[rng.choice(len(sites), n_lesions, replace=False)]
    grid = np.indices(shape, dtype=np.float32)
    lesion = np.zeros(shape, np.float32)
    t1 = np.zeros(shape, np.float32)
    t2 = np.zeros(shape, np.float32)
    pd = np.zeros(shape, np.float32)
    for centre in centres:
        radii = rng.uniform(*radius_mm, size=3)
        r2 = sum(((grid[i] - centre[i]) / radii[i]) ** 2 for i in range(3))
        blob = (r2 <= 1.0) & mask
        lesion[blob] = 1.0
        t1[blob] = rng.uniform(1200, 1500)
        t2[blob] = rng.uniform(130, 200)
        pd[blob] = rng.uniform(0.80, 0.90)
    keep = 1.0 - lesion
    gm, wm, csf = gm * keep, wm * keep, csf * keep
    signal = sum(f * CONVENTIONAL_FLAIR.signal(*TISSUE[t]) for f, t in
                 ((gm, "GM"), (wm, "WM"), (csf, "CSF")))  # fmt: skip
    signal = signal + lesion * CONVENTIONAL_FLAIR.signal(
        np.where(lesion > 0, t1, 1000.0), np.where(lesion > 0, t2, 100.0), pd
    )
    fractions = {"GM": gm, "WM": wm, "CSF": csf, "lesion": lesion}
    thick = {name: _downsample(f) for name, f in fractions.items()}
    flair = _downsample(signal)
    mask_thick = _downsample(mask.astype(np.float32)) >= 0.5
    # Smooth multiplicative receive bias and Rician noise.
    coords = np.indices(flair.shape, dtype=np.float32)
    centre = (np.array(flair.shape) - 1) / 2
    field = 1.0 + bias * ((coords[0] - centre[0]) / flair.shape[0]
                          + 0.5 * (coords[1] - centre[1]) / flair.shape[1])  # fmt: skip
    sigma = noise * CONVENTIONAL_FLAIR.signal(*TISSUE["WM"])
    real = flair * field + rng.normal(0, sigma, flair.shape)
    imag = rng.normal(0, sigma, flair.shape)
    flair = np.hypot(real, imag) * 10000.0 * mask_thick
    lesion_prob = {"GM": 1.0 if lesion_as == "GM" else 0.0, "WM": float(lesion_as == "WM")}
    gm_p = (thick["GM"] + lesion_prob["GM"] * thick["lesion"]) * mask_thick
    wm_p = (thick["WM"] + lesion_prob["WM"] * thick["lesion"]) * mask_thick
    csf_p = thick["CSF"] * mask_thick
    gm_p, wm_p, csf_p = (p**posterior_power for p in (gm_p, wm_p, csf_p))
    total = np.maximum(gm_p + wm_p + csf_p, 1e-12)
    affine = np.diag([*VOXEL, 1.0])
    return SimulatedFlair(
        flair=flair.astype(np.float32),
        mask=mask_thick,
        gm=(gm_p / total).astype(np.float32),
        wm=(wm_p / total).astype(np.float32),
        csf=(csf_p / total).astype(np.float32),
        truth=(thick["lesion"] >= 0.5) & mask_thick,
        lesion_fraction=thick["lesion"],
        affine=affine,
        voxel_size=VOXEL,
    )
