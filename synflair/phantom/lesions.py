"""Multiple-sclerosis-like white-matter lesions: ovoid plaques in periventricular and
juxtacortical white matter.

Lesions are drawn in template space, so that they deform with the anatomy.
Periventricular lesions are larger and elongated (ovoid, like Dawson's
fingers); juxtacortical lesions are small and rounder. Each lesion is an
ellipsoid with a soft edge about 1 mm wide; a lesion replaces white matter
only (its fraction never exceeds the WM fraction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synflair.phantom.anatomy import Template
from synflair.phantom.deformation import rotation_matrix

__all__ = ["KINDS", "Lesion", "draw_lesions", "render_lesions"]

#: Lesion kinds with (probability, equivalent radius range in mm, axis-ratio spread).
KINDS = {
    "periventricular": (0.65, (1.5, 6.0), 0.35),
    "juxtacortical": (0.35, (1.0, 3.5), 0.15),
}


@dataclass(frozen=True)
class Lesion:
    """One ellipsoidal lesion.

    Attributes
    ----------
    center_mni : (float, float, float)
        Centre, template RAS mm.
    radii_mm : (float, float, float)
        Semi-axes, mm.
    rotation_deg : (float, float, float)
        Orientation of the semi-axes (see
        :func:`synflair.phantom.deformation.rotation_matrix`).
    kind : str
        One of :data:`KINDS`.
    """

    center_mni: tuple[float, float, float]
    radii_mm: tuple[float, float, float]
    rotation_deg: tuple[float, float, float]
    kind: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {self.kind!r}")
        if len(self.radii_mm) != 3 or min(self.radii_mm) <= 0:
            raise ValueError(f"radii_mm must be 3 positive lengths, not {self.radii_mm!r}")

    @property
    def volume_mm3(self) -> float:
        """Volume of the ellipsoid, mm^3."""
        return float(4.0 / 3.0 * np.pi * np.prod(self.radii_mm))


def draw_lesions(
    rng: np.random.Generator,
    template: Template,
    max_lesions: int,
    allowed: np.ndarray | None = None,
) -> tuple[Lesion, ...]:
    """Draw ``0 .. max_lesions`` lesions (uniform count) at candidate white-matter voxels.

    Parameters
    ----------
    rng : numpy.random.Generator
    template : Template
        Provides the periventricular and juxtacortical candidate masks.
    max_lesions : int
    allowed : numpy.ndarray of bool, optional
        Template voxels where lesion centres may lie (e.g. inside the imaged slab).

    Returns
    -------
    tuple of Lesion
    """
    if int(max_lesions) < 0:
        raise ValueError(f"max_lesions must be >= 0, not {max_lesions!r}")
    count = int(rng.integers(0, int(max_lesions) + 1))
    candidates = {}
    for kind in KINDS:
        mask = getattr(template, kind)
        if allowed is not None:
            mask = mask & allowed
        candidates[kind] = np.flatnonzero(mask)
    kinds = [k for k in KINDS if candidates[k].size]
    if not kinds:
        return ()
    weights = np.array([KINDS[k][0] for k in kinds])
    lesions = []
    for _ in range(count):
        kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
        _, (r_low, r_high), spread = KINDS[kind]
        voxel = np.unravel_index(int(rng.choice(candidates[kind])), template.shape)
        position = np.asarray(voxel, dtype=float) + rng.uniform(-0.5, 0.5, 3)
        center = template.affine[:3, :3] @ position + template.affine[:3, 3]
        radius = float(np.exp(rng.uniform(np.log(r_low), np.log(r_high))))
        ratios = np.exp(rng.normal(0.0, spread, 3))
        ratios /= np.prod(ratios) ** (1.0 / 3.0)
        lesions.append(
            Lesion(
                center_mni=tuple(float(c) for c in center),
                radii_mm=tuple(float(r) for r in radius * ratios),
                rotation_deg=tuple(float(a) for a in rng.uniform(-180.0, 180.0, 3)),
                kind=kind,
            )
        )
    return tuple(lesions)


def render_lesions(lesions, template: Template, wm: np.ndarray) -> np.ndarray:
    """Lesion fraction on the template grid, never above ``wm``.

    Parameters
    ----------
    lesions : sequence of Lesion
    template : Template
        Gives the grid (shape and affine; 1 mm voxels).
    wm : numpy.ndarray, the template's shape
        White-matter fraction the lesions replace.

    Returns
    -------
    numpy.ndarray of float32
        Fraction in [0, wm]; subtract it from ``wm``.
    """
    shape = template.shape
    if np.shape(wm) != shape:
        raise ValueError(f"wm must have the template's shape {shape}, not {np.shape(wm)}")
    lesion = np.zeros(shape, dtype=np.float32)
    inverse = np.linalg.inv(template.affine)
    for item in lesions:
        center = inverse[:3, :3] @ np.asarray(item.center_mni) + inverse[:3, 3]
        reach = max(item.radii_mm) + 2.0
        low = np.maximum(np.floor(center - reach).astype(int), 0)
        high = np.minimum(np.ceil(center + reach).astype(int) + 1, shape)
        if np.any(high <= low):
            continue
        grids = np.meshgrid(
            *[np.arange(lo, hi) for lo, hi in zip(low, high, strict=True)], indexing="ij"
        )
        offsets = np.stack([g - c for g, c in zip(grids, center, strict=True)], axis=-1)
        world = offsets @ template.affine[:3, :3].T
        local = world @ rotation_matrix(item.rotation_deg)
        rho = np.sqrt(np.sum((local / np.asarray(item.radii_mm)) ** 2, axis=-1))
        fraction = np.clip((1.0 - rho) * min(item.radii_mm) + 0.5, 0.0, 1.0)
        box = tuple(slice(lo, hi) for lo, hi in zip(low, high, strict=True))
        lesion[box] = np.maximum(lesion[box], fraction)
    return np.minimum(lesion, wm).astype(np.float32)
