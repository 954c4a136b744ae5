"""Skull and scalp around the intracranial volume, as layers of given thickness.

nilearn's bundled MNI152 T1 is brain-extracted, so the extracranial head is
built geometrically: shells at a distance ``d`` (mm) outside the intracranial
volume, from the inside out:

- inner table of the skull (cortical bone: no signal), ~1.5 mm;
- diploe (bone marrow), ~2.5 mm;
- outer table (cortical bone: no signal), ~1.5 mm;
- galea and muscle, ~1.5 mm, thickened by the temporalis muscle over the
  temporal fossa (up to ~8 mm);
- subcutaneous fat, ~4 mm;
- skin (given the muscle compartment's values), ~1.5 mm;
- air (no signal).

Typical skull and scalp thicknesses follow Lillie et al., "Evaluation of skull
cortical thickness changes with age and sex from computed tomography scans",
J Bone Miner Res 2016;31:299-307, and the soft-tissue layers of adult scalp MRI.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["ScalpLayers", "draw_scalp", "scalp_fractions"]


@dataclass(frozen=True)
class ScalpLayers:
    """Thicknesses (mm) of the extracranial layers, from the inside out."""

    inner_table: float = 1.5
    diploe: float = 2.5
    outer_table: float = 1.5
    muscle: float = 1.5
    temporalis: float = 8.0
    fat: float = 4.0
    skin: float = 1.5

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{f.name} must be a thickness >= 0 mm, not {value!r}")


def draw_scalp(rng: np.random.Generator) -> ScalpLayers:
    """Draw a subject's layer thicknesses (skull x U(0.8, 1.2), soft tissue x U(0.6, 1.5))."""
    base = ScalpLayers()
    skull = rng.uniform(0.8, 1.2)
    soft = rng.uniform(0.6, 1.5, size=3)
    return ScalpLayers(
        inner_table=base.inner_table * skull,
        diploe=base.diploe * skull,
        outer_table=base.outer_table * skull,
        muscle=base.muscle * soft[0],
        temporalis=base.temporalis * soft[0],
        fat=base.fat * soft[1],
        skin=base.skin * soft[2],
    )


def _temporal_weight(points_mni: np.ndarray) -> np.ndarray:
    """1 over the temporal fossae, fading to 0 elsewhere (MNI RAS mm, shape (3, n))."""
    x, y, z = points_mni
    lateral = 1.0 / (1.0 + np.exp(-(np.abs(x) - 50.0) / 6.0))
    return lateral * np.exp(-(((z - 0.0) / 30.0) ** 2) - ((y + 10.0) / 45.0) ** 2)


def scalp_fractions(
    distance: np.ndarray, points_mni: np.ndarray, layers: ScalpLayers
) -> dict[str, np.ndarray]:
    """Fractions of the marrow, muscle (galea, temporalis and skin) and fat compartments.

    A 1 mm voxel centred at distance ``d`` outside the intracranial volume holds
    ``clip(t - d + 0.5, 0, 1)`` of everything closer than ``t``; a layer
    ``[a, b)`` holds the difference at ``b`` and ``a``.

    Parameters
    ----------
    distance : numpy.ndarray, shape (n,)
        Signed distance to the intracranial boundary, mm (positive outside).
    points_mni : numpy.ndarray, shape (3, n)
        The points in template (MNI) coordinates, for the temporalis.
    layers : ScalpLayers

    Returns
    -------
    dict
        ``"marrow"``, ``"muscle"``, ``"fat"``: arrays of shape (n,) in [0, 1].
    """
    d = np.asarray(distance, dtype=np.float32)

    def below(t):
        return np.clip(t - d + 0.5, 0.0, 1.0)

    muscle = layers.muscle + layers.temporalis * _temporal_weight(np.asarray(points_mni))
    edges = [0.0, layers.inner_table]
    edges.append(edges[-1] + layers.diploe)
    edges.append(edges[-1] + layers.outer_table)
    skull = edges[-1]
    galea_end = skull + muscle
    fat_end = galea_end + layers.fat
    skin_end = fat_end + layers.skin
    marrow = below(edges[2]) - below(edges[1])
    fat = below(fat_end) - below(galea_end)
    muscle_fraction = (below(galea_end) - below(skull)) + (below(skin_end) - below(fat_end))
    return {
        "marrow": marrow.astype(np.float32),
        "muscle": muscle_fraction.astype(np.float32),
        "fat": fat.astype(np.float32),
    }
