"""Synthetic contrasts from the quantitative maps (synthetic FLAIR and synthetic T1w).

Synthetic MRI computes conventional-looking images by evaluating a sequence's
signal equation with the fitted T1, T2 and PD of each voxel (Warntjes et al.
2008; Hagiwara et al. 2019 use SyMRI for this with the protocols below):

* synthetic FLAIR, inversion recovery ``PD |1 - 2 e^{-TI/T1} + e^{-TR/T1}| e^{-TE/T2}``,
  TR 15000, TE 100, TI 3000 ms (:data:`synflair.physics.SYNTHETIC_FLAIR`);
* synthetic T1w, spin echo ``PD (1 - e^{-TR/T1}) e^{-TE/T2}``, TR 500, TE 10 ms
  (:data:`synflair.physics.SYNTHETIC_T1W`).

**Intensity scale.** The images are computed with PD in percent of pure water
(the PD map of :class:`~synflair.quantify.model.MDMEFit`), so a value is the
signal in percent of the fully relaxed, TE = 0 signal of pure water: pure
water can reach at most 100, normal-appearing white matter is about 17 on
synthetic FLAIR and 27 on synthetic T1w. Voxels where the fit is not valid are
0. Before comparing with other FLAIR images, bring all to the common scale of
:mod:`synflair.intensity`.
"""

from __future__ import annotations

import numpy as np

from synflair.physics import (
    SYNTHETIC_FLAIR,
    SYNTHETIC_T1W,
    InversionRecoveryProtocol,
    SpinEchoProtocol,
)

__all__ = ["check_times", "synthesize", "synthetic_flair", "synthetic_t1w"]


def check_times(protocol, times: tuple[str, ...], name: str = "protocol") -> None:
    """Raise ValueError unless each of ``protocol``'s ``times`` (ms) is a positive number.

    The message names the time as ``<name>.<time>`` (e.g. ``flair.ti``).
    """
    for time in times:
        value = getattr(protocol, time)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name}.{time} must be a positive number of ms, not {value!r}")


def _check_protocol(protocol, kind, times) -> None:
    if not isinstance(protocol, kind):
        raise TypeError(f"protocol must be a {kind.__name__}, not {type(protocol).__name__}")
    check_times(protocol, times)


def synthesize(protocol, t1, t2, pd, valid=None) -> np.ndarray:
    """Evaluate a protocol's signal equation on the maps.

    Parameters
    ----------
    protocol : InversionRecoveryProtocol or SpinEchoProtocol
        Times in ms.
    t1, t2 : numpy.ndarray
        ms; same shape.
    pd : numpy.ndarray
        Percent of pure water.
    valid : numpy.ndarray of bool, optional
        Where the maps hold fitted values; default ``t1 > 0 and t2 > 0``.

    Returns
    -------
    numpy.ndarray of float32, same shape
        Percent of the fully relaxed signal of pure water; 0 outside ``valid``.
    """
    t1 = np.asarray(t1, dtype=np.float64)
    t2 = np.asarray(t2, dtype=np.float64)
    pd = np.asarray(pd, dtype=np.float64)
    if not t1.shape == t2.shape == pd.shape:
        raise ValueError(
            f"t1, t2 and pd must have one shape, not {t1.shape}, {t2.shape}, {pd.shape}"
        )
    if valid is None:
        valid = (t1 > 0) & (t2 > 0)
    else:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != t1.shape:
            raise ValueError(f"valid must have shape {t1.shape}, not {valid.shape}")
    out = np.zeros(t1.shape, dtype=np.float32)
    out[valid] = protocol.signal(t1[valid], t2[valid], pd[valid])
    return out


def synthetic_flair(
    t1, t2, pd, valid=None, protocol: InversionRecoveryProtocol = SYNTHETIC_FLAIR
) -> np.ndarray:
    """Synthetic FLAIR (default TR 15000, TE 100, TI 3000 ms); see :func:`synthesize`."""
    _check_protocol(protocol, InversionRecoveryProtocol, ("tr", "te", "ti"))
    return synthesize(protocol, t1, t2, pd, valid)


def synthetic_t1w(t1, t2, pd, valid=None, protocol: SpinEchoProtocol = SYNTHETIC_T1W) -> np.ndarray:
    """Synthetic spin-echo T1w (default TR 500, TE 10 ms); see :func:`synthesize`."""
    _check_protocol(protocol, SpinEchoProtocol, ("tr", "te"))
    return synthesize(protocol, t1, t2, pd, valid)
