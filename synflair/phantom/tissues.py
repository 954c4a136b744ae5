"""Relaxation values of the phantom's tissue compartments at 3 T, and their spread between subjects.

Reference values (T1 ms / T2 ms / PD, water = 1):

========  =====  =====  ====  ================================================
tissue    T1     T2     PD    source
========  =====  =====  ====  ================================================
WM        832    80     0.68  Wansapura et al. JMRI 1999;9:531 (T1, T2 at 3 T);
                              PD: Warntjes et al. MRM 2008;60:320
GM        1331   100    0.79  Wansapura 1999 (T1); T2 and PD: docs/phantom.md ranges
CSF       4400   1500   1.00  3 T reports of ~4.1-4.5 s (Lu et al. JMRI
                              2005;22:13; Rooney et al. MRM 2007;57:308);
                              the conventional FLAIR (TI 2472 / TR 9000)
                              nulls T1 = 4276 ms and the synthetic (TI 3000 /
                              TR 15000) 4571 ms: both aim at CSF
lesion    1600   190    0.85  the *abnormal* pool of lesion tissue, calibrated
                              (docs/phantom.md): mixed with normal-appearing WM
                              and, in black holes, free water
                              (:mod:`synflair.phantom.lesions`), a lesion fits
                              to a median T1 of about 1300 ms, within the
                              docs/phantom.md ranges 1100-1500 / 100-200 / 0.75-0.90
fat       382    68     0.90  de Bazelaire et al. Radiology 2004;230:652
                              (subcutaneous fat, 3 T)
muscle    1412   50     0.70  de Bazelaire 2004 (skeletal muscle, 3 T);
                              also used for the skin
marrow    586    49     0.80  de Bazelaire 2004 (bone marrow, 3 T); the
                              diploe of the skull
========  =====  =====  ====  ================================================

Cortical bone and air are not compartments: they give no signal.
The phantom ignores effects beyond the signal equations of
:mod:`synflair.physics` (magnetization transfer, J-coupling of fat in
turbo spin echo, diffusion, multi-exponential relaxation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "COMPARTMENTS",
    "INTRACRANIAL",
    "LESION_WM_CORRELATION",
    "REFERENCE",
    "SIGNAL_POOLS",
    "Relaxation",
    "TissueValues",
    "draw_tissues",
]

#: Compartment order used throughout the phantom.
COMPARTMENTS = ("WM", "GM", "CSF", "lesion", "fat", "muscle", "marrow")
#: The intracranial compartments; their fractions sum to 1 in the intracranial volume.
INTRACRANIAL = ("WM", "GM", "CSF", "lesion")
#: The water pools whose signals the phantom sums: the compartments, plus the free
#: water in the core of "black hole" lesions, which has the CSF values (but no CSF
#: flow). See :mod:`synflair.phantom.lesions`.
SIGNAL_POOLS = (*COMPARTMENTS, "lesion_fluid")


@dataclass(frozen=True)
class Relaxation:
    """T1 and T2 (ms) and proton density (water = 1) of one compartment."""

    t1: float
    t2: float
    pd: float

    def __post_init__(self):
        for name in ("t1", "t2"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number of ms, not {value!r}")
        if not np.isfinite(self.pd) or not 0 < self.pd <= 1.2:
            raise ValueError(f"pd must be in (0, 1.2], not {self.pd!r}")


#: Correlation of the lesion's and white matter's deviations between subjects
#: (:func:`draw_tissues`).
LESION_WM_CORRELATION = 0.8

#: Literature 3 T values (see the module docstring).
REFERENCE: dict[str, Relaxation] = {
    "WM": Relaxation(832.0, 80.0, 0.68),
    "GM": Relaxation(1331.0, 100.0, 0.79),
    "CSF": Relaxation(4400.0, 1500.0, 1.0),
    "lesion": Relaxation(1600.0, 190.0, 0.85),
    "fat": Relaxation(382.0, 68.0, 0.90),
    "muscle": Relaxation(1412.0, 50.0, 0.70),
    "marrow": Relaxation(586.0, 49.0, 0.80),
}


@dataclass(frozen=True)
class TissueValues:
    """One subject's relaxation values, one :class:`Relaxation` per compartment."""

    values: dict[str, Relaxation]

    def __post_init__(self):
        if tuple(self.values) != COMPARTMENTS:
            raise ValueError(
                f"values must have the compartments {COMPARTMENTS} in order, "
                f"not {tuple(self.values)!r}"
            )

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """T1 (ms), T2 (ms) and PD, each shape ``(len(COMPARTMENTS),)``."""
        t1 = np.array([self.values[c].t1 for c in COMPARTMENTS])
        t2 = np.array([self.values[c].t2 for c in COMPARTMENTS])
        pd = np.array([self.values[c].pd for c in COMPARTMENTS])
        return t1, t2, pd

    def pool_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """T1 (ms), T2 (ms) and PD of the :data:`SIGNAL_POOLS`, each shape ``(len(SIGNAL_POOLS),)``.

        The lesion fluid has the CSF values.
        """
        return tuple(np.append(a, a[COMPARTMENTS.index("CSF")]) for a in self.arrays())

    def rows(self) -> list[dict[str, float | str]]:
        """Table rows ``{"tissue", "T1_ms", "T2_ms", "PD"}`` for a TSV."""
        return [
            {"tissue": c, "T1_ms": v.t1, "T2_ms": v.t2, "PD": v.pd} for c, v in self.values.items()
        ]


def draw_tissues(
    rng: np.random.Generator,
    spread: float = 0.05,
    reference: dict[str, Relaxation] = REFERENCE,
) -> TissueValues:
    """Draw a subject's relaxation values around the reference values.

    Each of T1, T2 and PD of each compartment is multiplied by
    ``1 + spread * z`` with ``z`` standard normal, truncated to ``|z| <= 2.5``.
    PD stays <= 1. The lesion's ``z`` is correlated with white matter's
    (:data:`LESION_WM_CORRELATION`): lesions are altered white matter, and much of
    the difference between subjects (scanner, temperature, age) shifts both, so
    the lesion/NAWM contrast varies between subjects about as much as on real
    FLAIR (docs/phantom.md). The lesions' variation from plaque to plaque is drawn
    per lesion, as its composition (:mod:`synflair.phantom.lesions`).

    Parameters
    ----------
    rng : numpy.random.Generator
    spread : float
        Relative standard deviation between subjects (0 gives the reference).
    reference : dict
        Reference values per compartment, in :data:`COMPARTMENTS` order.

    Returns
    -------
    TissueValues
    """
    if not 0 <= spread < 0.3:
        raise ValueError(f"spread must be in [0, 0.3), not {spread!r}")
    values, unit = {}, {}
    for name in COMPARTMENTS:
        ref = reference[name]
        unit[name] = np.clip(rng.standard_normal(3), -2.5, 2.5)
        if name == "lesion":
            rho = LESION_WM_CORRELATION
            unit[name] = rho * unit["WM"] + np.sqrt(1.0 - rho**2) * unit[name]
        z = unit[name] * spread
        values[name] = Relaxation(
            t1=float(ref.t1 * (1 + z[0])),
            t2=float(ref.t2 * (1 + z[1])),
            pd=float(min(ref.pd * (1 + z[2]), 1.0)),
        )
    return TissueValues(values)
