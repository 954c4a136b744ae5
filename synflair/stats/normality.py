"""Shapiro-Wilk normality test with a reason instead of a crash for unusable input.

The paper used the Shapiro-Wilk test to decide against parametric tests
("not all the datasets were normally distributed"); synflair reports it per
variable so that the choice of the Wilcoxon test can be checked.

References
----------
.. [1] Shapiro SS, Wilk MB. An analysis of variance test for normality
   (complete samples). Biometrika 1965;52:591-611.
.. [2] Royston P. Remark AS R94: a remark on algorithm AS 181. Applied
   Statistics 1995;44:547-551 (the algorithm of ``scipy.stats.shapiro``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from synflair.errors import SynflairError

#: Fewest values the Shapiro-Wilk test accepts.
SHAPIRO_MIN_N = 3


@dataclass(frozen=True)
class ShapiroResult:
    """Result of :func:`shapiro_wilk`.

    Attributes
    ----------
    statistic : float
        Shapiro-Wilk ``W`` in (0, 1]; NaN when not computed.
    p_value : float
        Probability of a ``W`` this small under normality; NaN when not computed.
    n : int
        Number of values used.
    reason : str
        Why the result is NaN, or what was dropped; empty otherwise.
    """

    statistic: float
    p_value: float
    n: int
    reason: str = ""


def shapiro_wilk(values: ArrayLike, *, nan_policy: str = "propagate") -> ShapiroResult:
    """Shapiro-Wilk test of normality.

    Parameters
    ----------
    values : array_like, shape ``(n,)``
    nan_policy : {"propagate", "omit"}
        ``"propagate"``: a NaN gives a NaN result with a reason; ``"omit"``: NaNs are dropped.

    Returns
    -------
    ShapiroResult
        NaN with a reason for fewer than 3 values or values that are all equal.
    """
    if nan_policy not in ("propagate", "omit"):
        raise SynflairError(f"nan_policy must be 'propagate' or 'omit', not {nan_policy!r}")
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise SynflairError(f"values must be 1D, not shape {values.shape}")
    nan = float("nan")
    notes = []
    bad = ~np.isfinite(values)
    if bad.any():
        where = np.flatnonzero(bad).tolist()
        if nan_policy == "propagate":
            return ShapiroResult(
                nan, nan, len(values), f"NaN or infinite value(s) at index {where}"
            )
        notes.append(f"{len(where)} NaN value(s) dropped (index {where})")
        values = values[~bad]
    n = len(values)
    if n < SHAPIRO_MIN_N:
        notes.append(f"fewer than {SHAPIRO_MIN_N} values (n = {n})")
        return ShapiroResult(nan, nan, n, "; ".join(notes))
    if np.ptp(values) == 0:
        notes.append("all values are equal")
        return ShapiroResult(nan, nan, n, "; ".join(notes))
    result = stats.shapiro(values)
    return ShapiroResult(float(result.statistic), float(result.pvalue), n, "; ".join(notes))
