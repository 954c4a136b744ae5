"""How precisely the MDME data can determine T1, T2, PD and B1: the Cramér-Rao bound.

For Gaussian noise of standard deviation ``sigma`` on each of the signals
``S_v(theta)``, no unbiased estimator of ``theta = (T1, T2, PD, B1)`` has a
smaller covariance than the inverse Fisher information ``sigma^2 (J^T J)^-1``,
with ``J = dS/dtheta`` (Kay, Fundamentals of Statistical Signal Processing,
1993, ch. 3). It tells whether an accuracy target is reachable at a given
noise level, and how close the fit of :mod:`synflair.quantify.model` comes to
the best possible (tests and ``bench/bench_quantify.py``). With magnitude data
the bound holds at high SNR, where the magnitude noise is close to Gaussian.
"""

from __future__ import annotations

import numpy as np

from synflair.physics import MDMEProtocol

__all__ = ["cramer_rao_std"]

_NAMES = ("t1", "t2", "pd", "b1")


def cramer_rao_std(
    protocol: MDMEProtocol,
    t1: float,
    t2: float,
    pd: float,
    b1: float = 1.0,
    sigma: float = 1.0,
    *,
    b1_known: bool = False,
) -> dict[str, float]:
    """Smallest standard deviations of unbiased estimates of one tissue's parameters.

    Parameters
    ----------
    protocol : synflair.physics.MDMEProtocol
    t1, t2 : float
        ms.
    pd : float
        Proton density (signal units).
    b1 : float
        Flip-angle ratio.
    sigma : float
        Noise standard deviation of each signal, signal units.
    b1_known : bool
        Treat B1 as known (e.g. from a smooth B1 map).

    Returns
    -------
    dict
        ``{"t1": ms, "t2": ms, "pd": signal units, "b1": ratio}`` (``b1`` absent
        when ``b1_known``).
    """
    theta = np.array([t1, t2, pd, b1], dtype=float)
    if not np.all(np.isfinite(theta)) or np.any(theta <= 0) or not sigma > 0:
        raise ValueError(f"t1, t2, pd, b1 and sigma must be positive, not {(*theta, sigma)!r}")
    n = 3 if b1_known else 4
    jacobian = np.empty((protocol.n_volumes, n))
    for i in range(n):
        step = np.zeros(4)
        step[i] = theta[i] * 1e-6
        jacobian[:, i] = (protocol.signal(*(theta + step)) - protocol.signal(*(theta - step))) / (
            2 * step[i]
        )
    covariance = np.linalg.inv(jacobian.T @ jacobian) * sigma**2
    return {name: float(np.sqrt(covariance[i, i])) for i, name in enumerate(_NAMES[:n])}
