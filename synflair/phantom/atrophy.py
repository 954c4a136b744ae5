"""Brain atrophy: the parenchymal surface retreats, widening the sulci and the ventricles.

Atrophy is modelled in template space as a retreat of the parenchymal surface
by ``a`` mm along its normal. Within the surface band of
:class:`synflair.phantom.anatomy.SurfaceBand` the WM and GM fractions are
resampled from points shifted towards the CSF,

.. math:: p'(y) = p\\left(y - m(y)\\, n(y)\\right), \\quad
          m = a \\cdot \\mathrm{clip}(1 - d / w, 0, 1),

with ``n`` the unit normal into the parenchyma, ``d`` the signed distance to
the parenchymal boundary (positive inside) and ``w`` the band's depth. The
surface moves by ``a``; the tissue below it is compressed over ``w`` mm, which
thins the cortex next to widened sulci. The intracranial volume does not
change, so the CSF (what remains of it) grows. ``a`` is the ventricular amount
where the nearest CSF is ventricular or cisternal, else the sulcal amount.
With ``a = 0`` the maps are returned unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synflair.phantom.anatomy import Template

__all__ = ["Atrophy", "apply_atrophy", "draw_atrophy"]


@dataclass(frozen=True)
class Atrophy:
    """Retreat (mm) of the parenchymal surface next to sulcal and ventricular CSF."""

    sulcal_mm: float = 0.0
    ventricular_mm: float = 0.0

    def __post_init__(self):
        for name in ("sulcal_mm", "ventricular_mm"):
            value = getattr(self, name)
            if not np.isfinite(value) or not 0 <= value <= 5:
                raise ValueError(f"{name} must be in [0, 5] mm, not {value!r}")


def draw_atrophy(rng: np.random.Generator, sulcal_range, ventricular_range) -> Atrophy:
    """Draw a subject's atrophy: one severity in [0, 1] sets both amounts, plus +-0.15 jitter.

    Parameters
    ----------
    rng : numpy.random.Generator
    sulcal_range, ventricular_range : (float, float)
        Ranges of the retreat, mm.
    """
    severity = rng.uniform()
    jitter = rng.uniform(-0.15, 0.15, size=2)
    amounts = []
    for (low, high), j in zip((sulcal_range, ventricular_range), jitter, strict=True):
        amounts.append(float(low + (high - low) * np.clip(severity + j, 0.0, 1.0)))
    return Atrophy(sulcal_mm=amounts[0], ventricular_mm=amounts[1])


def apply_atrophy(template: Template, atrophy: Atrophy) -> tuple[np.ndarray, np.ndarray]:
    """WM and GM fractions of the template after atrophy.

    Parameters
    ----------
    template : Template
    atrophy : Atrophy

    Returns
    -------
    wm, gm : numpy.ndarray of float32, the template's shape
        New arrays; ``wm + gm <= template.icv`` everywhere.
    """
    from scipy import ndimage

    wm = template.wm.copy()
    gm = template.gm.copy()
    if atrophy.sulcal_mm == 0 and atrophy.ventricular_mm == 0:
        return wm, gm
    band = template.band
    depth = float(max(band.distance.max(), 1e-6))
    amount = np.where(band.ventricular, atrophy.ventricular_mm, atrophy.sulcal_mm)
    shift = amount * np.clip(1.0 - np.maximum(band.distance, 0.0) / depth, 0.0, 1.0)
    voxels = np.stack(np.unravel_index(band.index, template.shape)).astype(np.float32)
    points = voxels - (shift[:, None] * band.normal).T.astype(np.float32)
    for array, source in ((wm, template.wm), (gm, template.gm)):
        values = ndimage.map_coordinates(source, points, order=1, mode="nearest", prefilter=False)
        np.put(array, band.index, values)
    parenchyma = wm + gm
    scale = np.where(parenchyma > template.icv, template.icv / np.maximum(parenchyma, 1e-6), 1.0)
    return (wm * scale).astype(np.float32), (gm * scale).astype(np.float32)
