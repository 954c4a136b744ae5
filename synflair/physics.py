"""MR signal equations of synthetic MRI, as pure broadcasting NumPy functions.

Units throughout: times in milliseconds (ms), angles in degrees, proton
density (PD) in arbitrary units (the phantom uses water = 1). Every function
broadcasts over all of its array arguments.

References
----------
.. [1] Warntjes JBM, Leinhard OD, West J, Lundberg P. Rapid magnetic resonance
   quantification on the brain: optimization for clinical usage. Magn Reson
   Med 2008;60:320-329 (the MDME / QRAPMASTER signal model).
.. [2] Hagiwara A, et al. Improving the quality of synthetic FLAIR images with
   deep learning using a conditional generative adversarial network for
   pixel-by-pixel image translation. AJNR 2019;40:224-230 (the protocols).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "CONVENTIONAL_FLAIR",
    "MDME_PAPER",
    "SYNTHETIC_FLAIR",
    "SYNTHETIC_T1W",
    "InversionRecoveryProtocol",
    "MDMEProtocol",
    "SpinEchoProtocol",
    "flair_null_ti",
    "ir_signal",
    "mdme_signal",
    "se_signal",
]


def mdme_signal(
    t1: ArrayLike,
    t2: ArrayLike,
    pd: ArrayLike,
    te: ArrayLike,
    td: ArrayLike,
    *,
    tr: ArrayLike = 4000.0,
    sat_angle: ArrayLike = 120.0,
    exc_angle: ArrayLike = 90.0,
    b1: ArrayLike = 1.0,
) -> np.ndarray:
    """Signed MDME (QRAPMASTER) saturation-recovery spin-echo signal.

    .. math::

        S = PD \\frac{1 - (1 - \\cos B_1\\theta) e^{-TD/T_1} - \\cos B_1\\theta\\, e^{-TR/T_1}}
                     {1 - \\cos B_1\\theta \\cos B_1\\alpha\\, e^{-TR/T_1}} e^{-TE/T_2}

    Parameters
    ----------
    t1, t2 : array_like
        Longitudinal and transverse relaxation times, ms (> 0).
    pd : array_like
        Proton density, arbitrary units.
    te : array_like
        Echo time, ms.
    td : array_like
        Saturation delay (time from the saturation pulse to the excitation), ms.
    tr : array_like, optional
        Repetition time, ms (paper: 4000).
    sat_angle : array_like, optional
        Nominal saturation flip angle theta, degrees (paper: 120).
    exc_angle : array_like, optional
        Nominal excitation flip angle alpha, degrees (paper: 90).
    b1 : array_like, optional
        Ratio of the actual to the nominal flip angle; scales both angles.

    Returns
    -------
    numpy.ndarray
        The signed signal; negative at short TD, where the longitudinal
        magnetization is still inverted past zero by the 120 degree pulse.

    References
    ----------
    Warntjes et al., MRM 2008;60:320 (Eq. 1 and 2).
    """
    t1 = np.asarray(t1, dtype=float)
    t2 = np.asarray(t2, dtype=float)
    cos_theta = np.cos(np.deg2rad(np.multiply(b1, sat_angle)))
    cos_alpha = np.cos(np.deg2rad(np.multiply(b1, exc_angle)))
    e_td = np.exp(-np.divide(td, t1))
    e_tr = np.exp(-np.divide(tr, t1))
    longitudinal = (1.0 - (1.0 - cos_theta) * e_td - cos_theta * e_tr) / (
        1.0 - cos_theta * cos_alpha * e_tr
    )
    return np.asarray(pd) * longitudinal * np.exp(-np.divide(te, t2))


def ir_signal(
    t1: ArrayLike, t2: ArrayLike, pd: ArrayLike, *, tr: ArrayLike, te: ArrayLike, ti: ArrayLike
) -> np.ndarray:
    """Magnitude inversion-recovery (FLAIR) spin-echo signal.

    .. math:: S = PD \\left|1 - 2 e^{-TI/T_1} + e^{-TR/T_1}\\right| e^{-TE/T_2}

    Parameters
    ----------
    t1, t2 : array_like
        Relaxation times, ms.
    pd : array_like
        Proton density.
    tr, te, ti : array_like
        Repetition, echo and inversion times, ms.

    Returns
    -------
    numpy.ndarray
        Non-negative signal.
    """
    return np.abs(ir_signed(t1, t2, pd, tr=tr, te=te, ti=ti))


def ir_signed(
    t1: ArrayLike, t2: ArrayLike, pd: ArrayLike, *, tr: ArrayLike, te: ArrayLike, ti: ArrayLike
) -> np.ndarray:
    """Signed inversion-recovery signal (before the magnitude of :func:`ir_signal`).

    The phantom sums compartments' signed signals within a voxel before taking
    the magnitude, as a scanner's magnitude reconstruction does.
    """
    t1 = np.asarray(t1, dtype=float)
    longitudinal = 1.0 - 2.0 * np.exp(-np.divide(ti, t1)) + np.exp(-np.divide(tr, t1))
    return np.asarray(pd) * longitudinal * np.exp(-np.divide(te, t2))


def se_signal(
    t1: ArrayLike, t2: ArrayLike, pd: ArrayLike, *, tr: ArrayLike, te: ArrayLike
) -> np.ndarray:
    """Spin-echo signal, :math:`S = PD (1 - e^{-TR/T_1}) e^{-TE/T_2}`.

    Parameters
    ----------
    t1, t2 : array_like
        Relaxation times, ms.
    pd : array_like
        Proton density.
    tr, te : array_like
        Repetition and echo times, ms.
    """
    t1 = np.asarray(t1, dtype=float)
    return np.asarray(pd) * (1.0 - np.exp(-np.divide(tr, t1))) * np.exp(-np.divide(te, t2))


def flair_null_ti(t1: ArrayLike, tr: ArrayLike) -> np.ndarray:
    """Inversion time (ms) that nulls a tissue of longitudinal relaxation ``t1`` (ms).

    .. math:: TI_0 = T_1 \\ln\\frac{2}{1 + e^{-TR/T_1}}
    """
    t1 = np.asarray(t1, dtype=float)
    return t1 * np.log(2.0 / (1.0 + np.exp(-np.divide(tr, t1))))


@dataclass(frozen=True)
class MDMEProtocol:
    """An MDME acquisition: echo times x saturation delays.

    Attributes
    ----------
    te : tuple of float
        Echo times, ms.
    td : tuple of float
        Saturation delays, ms.
    tr : float
        Repetition time, ms.
    sat_angle, exc_angle : float
        Nominal saturation and excitation flip angles, degrees.
    """

    te: tuple[float, ...] = (16.9, 84.5)
    td: tuple[float, ...] = (146.0, 546.0, 1879.0, 3879.0)
    tr: float = 4000.0
    sat_angle: float = 120.0
    exc_angle: float = 90.0

    def __post_init__(self):
        for name in ("te", "td"):
            values = tuple(float(v) for v in getattr(self, name))
            if not values or any(v <= 0 for v in values):
                raise ValueError(
                    f"{name} must be a non-empty sequence of positive ms, not {values!r}"
                )
            object.__setattr__(self, name, values)
        if self.tr <= max(self.td):
            raise ValueError(f"tr must exceed every saturation delay td, not {self.tr!r}")

    @property
    def n_volumes(self) -> int:
        """Number of images per slice, ``len(te) * len(td)``."""
        return len(self.te) * len(self.td)

    @property
    def volume_te(self) -> np.ndarray:
        """Echo time (ms) of each volume in delay-major order ``[TD1 TE1, TD1 TE2, ...]``."""
        return np.tile(np.asarray(self.te), len(self.td))

    @property
    def volume_td(self) -> np.ndarray:
        """Saturation delay (ms) of each volume in delay-major order."""
        return np.repeat(np.asarray(self.td), len(self.te))

    def signal(self, t1, t2, pd, b1=1.0) -> np.ndarray:
        """Signed MDME signal of every volume, stacked on a new last axis.

        Parameters
        ----------
        t1, t2, pd, b1 : array_like
            Broadcast together; shape ``S``.

        Returns
        -------
        numpy.ndarray, shape ``S + (n_volumes,)``
        """

        def expand(a):
            return np.asarray(a, dtype=float)[..., None]

        return mdme_signal(
            expand(t1),
            expand(t2),
            expand(pd),
            self.volume_te,
            self.volume_td,
            tr=self.tr,
            sat_angle=self.sat_angle,
            exc_angle=self.exc_angle,
            b1=expand(b1),
        )


@dataclass(frozen=True)
class InversionRecoveryProtocol:
    """A (synthetic or acquired) inversion-recovery protocol, times in ms."""

    tr: float
    te: float
    ti: float

    def signal(self, t1, t2, pd) -> np.ndarray:
        """Magnitude IR signal of tissue(s) ``(t1, t2, pd)``."""
        return ir_signal(t1, t2, pd, tr=self.tr, te=self.te, ti=self.ti)


@dataclass(frozen=True)
class SpinEchoProtocol:
    """A spin-echo protocol, times in ms."""

    tr: float
    te: float

    def signal(self, t1, t2, pd) -> np.ndarray:
        """Spin-echo signal of tissue(s) ``(t1, t2, pd)``."""
        return se_signal(t1, t2, pd, tr=self.tr, te=self.te)


#: The paper's MDME protocol: TE 16.9/84.5 ms, TD 146/546/1879/3879 ms, TR 4000 ms.
MDME_PAPER = MDMEProtocol()
#: The paper's synthetic FLAIR: TR 15000, TE 100, TI 3000 ms.
SYNTHETIC_FLAIR = InversionRecoveryProtocol(tr=15000.0, te=100.0, ti=3000.0)
#: The paper's conventional FLAIR: TR 9000, TE 124, TI 2472 ms.
CONVENTIONAL_FLAIR = InversionRecoveryProtocol(tr=9000.0, te=124.0, ti=2472.0)
#: The paper's synthetic T1-weighted spin echo: TR 500, TE 10 ms.
SYNTHETIC_T1W = SpinEchoProtocol(tr=500.0, te=10.0)
