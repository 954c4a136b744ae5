"""Multiple-sclerosis-like white-matter lesions: ovoid plaques in periventricular and
juxtacortical white matter.

Lesions are drawn in template space, so that they deform with the anatomy.
Periventricular lesions are larger and elongated (ovoid, like Dawson's
fingers); juxtacortical lesions are small and rounder. Each lesion is an
ellipsoid with a soft edge about 1 mm wide; a lesion replaces white matter
only (its fraction never exceeds the WM fraction).

Lesion tissue is not uniform. Within a lesion, each point is a mixture of three
water pools (slow exchange, so their signals add):

- *abnormal* lesion tissue (demyelination and oedema: the ``lesion`` values of
  :mod:`synflair.phantom.tissues`), a share ``severity * (1 - (1 - edge) rho^2)``
  that is largest at the centre (``rho = 0``) and falls to ``edge`` times that
  at the border (``rho = 1``): the core is brighter on FLAIR than the rim;
- *normal-appearing* tissue (white-matter values), the rest of the non-fluid part;
  lesions with a low ``severity`` are faint;
- *fluid* (free water with CSF values), only in "black holes": a share
  ``fluid * (1 - rho^2)`` peaking at the centre. It lengthens the apparent T1
  (T1-hypointense core) and darkens the core on FLAIR, leaving a brighter rim.

:func:`render_composition` returns the lesion fraction and the fractions of the
normal-appearing and fluid pools in it (fractions of the voxel, not shares of the
lesion); the abnormal pool is the remainder. The shares are calibrated so that
the conventional FLAIR's lesion/NAWM ratio matches real MS data (docs/phantom.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from synflair.phantom.anatomy import Template
from synflair.phantom.deformation import rotation_matrix

__all__ = ["KINDS", "Lesion", "draw_lesions", "render_composition", "render_lesions", "shares"]

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
    severity : float
        Share of abnormal tissue at the centre, in (0, 1] (1: fully abnormal).
    edge : float
        Abnormal share at the border relative to the centre, in [0, 1].
    fluid : float
        Free-water share at the centre, in [0, 1); > 0 makes a "black hole".
    """

    center_mni: tuple[float, float, float]
    radii_mm: tuple[float, float, float]
    rotation_deg: tuple[float, float, float]
    kind: str
    severity: float = 1.0
    edge: float = 1.0
    fluid: float = 0.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {self.kind!r}")
        if len(self.radii_mm) != 3 or min(self.radii_mm) <= 0:
            raise ValueError(f"radii_mm must be 3 positive lengths, not {self.radii_mm!r}")
        if not 0 < self.severity <= 1:
            raise ValueError(f"severity must be in (0, 1], not {self.severity!r}")
        if not 0 <= self.edge <= 1:
            raise ValueError(f"edge must be in [0, 1], not {self.edge!r}")
        if not 0 <= self.fluid < 1:
            raise ValueError(f"fluid must be in [0, 1), not {self.fluid!r}")

    @property
    def black_hole(self) -> bool:
        """Whether the lesion has a free-water (T1-hypointense) core."""
        return self.fluid > 0

    @property
    def volume_mm3(self) -> float:
        """Volume of the ellipsoid, mm^3."""
        return float(4.0 / 3.0 * np.pi * np.prod(self.radii_mm))


def draw_lesions(
    rng: np.random.Generator,
    template: Template,
    max_lesions: int,
    allowed: np.ndarray | None = None,
    *,
    severity: tuple[float, float] = (1.0, 1.0),
    edge: float = 1.0,
    black_hole_fraction: float = 0.0,
    fluid: tuple[float, float] = (0.3, 0.8),
) -> tuple[Lesion, ...]:
    """Draw ``0 .. max_lesions`` lesions (uniform count) at candidate white-matter voxels.

    The geometry of every lesion is drawn first, then the tissue of every lesion
    (so the composition settings leave the geometry unchanged).

    Parameters
    ----------
    rng : numpy.random.Generator
    template : Template
        Provides the periventricular and juxtacortical candidate masks.
    max_lesions : int
    allowed : numpy.ndarray of bool, optional
        Template voxels where lesion centres may lie (e.g. inside the imaged slab).
    severity : (float, float)
        Range of the centre's abnormal share (uniform), within (0, 1].
    edge : float
        Abnormal share at the border relative to the centre (the same for all).
    black_hole_fraction : float
        Probability that a lesion is a black hole.
    fluid : (float, float)
        Range of a black hole's free-water share at its centre (uniform), within [0, 1).

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
    severities = rng.uniform(*severity, len(lesions))
    holes = rng.random(len(lesions)) < black_hole_fraction
    fluids = np.where(holes, rng.uniform(*fluid, len(lesions)), 0.0)
    return tuple(
        replace(item, severity=float(s), edge=float(edge), fluid=float(f))
        for item, s, f in zip(lesions, severities, fluids, strict=True)
    )


def shares(lesion: Lesion, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal-appearing and fluid shares of ``lesion``'s tissue at normalised radius ``rho``.

    Parameters
    ----------
    lesion : Lesion
    rho : numpy.ndarray
        Ellipsoidal radius (0 at the centre, 1 at the border; clipped to 1 beyond).

    Returns
    -------
    normal, fluid : numpy.ndarray
        Shares in [0, 1]; the abnormal share is ``1 - normal - fluid``.
    """
    r2 = np.minimum(np.asarray(rho, dtype=np.float32), 1.0) ** 2
    fluid = lesion.fluid * (1.0 - r2)
    abnormal = lesion.severity * (1.0 - (1.0 - lesion.edge) * r2)
    return (1.0 - fluid) * (1.0 - abnormal), fluid


def render_composition(
    lesions, template: Template, wm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lesion fraction and its normal-appearing and fluid parts on the template grid.

    Parameters
    ----------
    lesions : sequence of Lesion
    template : Template
        Gives the grid (shape and affine; 1 mm voxels).
    wm : numpy.ndarray, the template's shape
        White-matter fraction the lesions replace.

    Returns
    -------
    lesion, normal, fluid : numpy.ndarray of float32
        Fractions of the voxel: ``lesion`` in [0, wm] (subtract it from ``wm``);
        ``normal + fluid <= lesion``. Where lesions overlap, the one with the
        larger fraction gives the composition. The three are fractions of the
        voxel, so they interpolate linearly like the other tissue maps.
    """
    shape = template.shape
    if np.shape(wm) != shape:
        raise ValueError(f"wm must have the template's shape {shape}, not {np.shape(wm)}")
    lesion = np.zeros(shape, dtype=np.float32)
    normal_share = np.zeros(shape, dtype=np.float32)
    fluid_share = np.zeros(shape, dtype=np.float32)
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
        taken = fraction > lesion[box]
        normal, fluid = shares(item, rho)
        normal_share[box] = np.where(taken, normal, normal_share[box])
        fluid_share[box] = np.where(taken, fluid, fluid_share[box])
        lesion[box] = np.maximum(lesion[box], fraction)
    lesion = np.minimum(lesion, wm).astype(np.float32)
    return (
        lesion,
        (lesion * normal_share).astype(np.float32),
        (lesion * fluid_share).astype(np.float32),
    )


def render_lesions(lesions, template: Template, wm: np.ndarray) -> np.ndarray:
    """Lesion fraction on the template grid (float32, in [0, wm]; subtract it from ``wm``).

    The first output of :func:`render_composition`, with its parameters; that function also
    gives the pools inside the lesions.
    """
    return render_composition(lesions, template, wm)[0]
