"""Vectorized per-voxel solver of the MDME signal equation (the numerical core of the fit).

The MDME signal (Warntjes et al. 2008; :func:`synflair.physics.mdme_signal`)
factorizes into a saturation-recovery term and a transverse decay::

    S(TE_e, TD_d) = A_d exp(-TE_e / T2),   A_d = a - b x_d,   x_d = exp(-TD_d / T1)

with, writing c_t = cos(B1 theta), c_a = cos(B1 alpha), E = exp(-TR / T1),

    a = M0 (1 - c_t E) / (1 - c_t c_a E),   b = M0 (1 - c_t) / (1 - c_t c_a E).

The solver works in three steps, each vectorized over voxels:

1. **T2 from the echo pair.** With two echoes and free amplitudes, the maximum
   likelihood estimate of the echo ratio r = exp(-(TE2 - TE1) / T2) under equal
   Gaussian noise is the total-least-squares slope of the pairs (S_1d, S_2d)
   through the origin: the principal axis of their 2x2 scatter matrix, in closed
   form. The amplitudes at TE1 are the projections ``(S_1d + r S_2d) / (1 + r^2)``.
2. **T1 by variable projection.** For a given R1 = 1/T1 the amplitudes are
   linear in (a, b), solved in closed form; R1 is initialized by the best of a
   log-spaced grid (one small product per delay) and refined by Gauss-Newton steps
   on the projected residual (Golub and Pereyra 1973; Kaufman 1975), each step
   limited to a factor of 2.
3. **B1 and M0 in closed form** from q = b/a: ``c_t = (1 - q) / (1 - q E)``,
   ``B1 = arccos(c_t) / theta``, ``M0 = a (1 - c_t c_a E) / (1 - c_t E)``.

Magnitude data lose the sign of A_d, which is negative at short delays. Since
A_d increases with TD, |A_d| falls to a minimum next to the zero crossing and
rises after it, so only two sign patterns are possible: the first ``m`` or the
first ``m + 1`` delays negative, ``m`` being the index of the smallest
amplitude. Both are started from their best grid point and refined; the one
with the lower residual is kept.

With B1 known (a smooth B1 map, second pass of the model), ``c_t`` is fixed
and only R1 and the scale ``a`` are fitted (:func:`fit_recovery_fixed_b1`),
starting from the first pass; T2 is unchanged (it does not depend on B1).

All arrays here are ``(n_delays, n_voxels)`` float64 with delays ascending;
:mod:`synflair.quantify.model` gathers voxels, sorts delays and runs chunks in
threads (NumPy releases the GIL in its loops).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ChunkResult",
    "RecoveryGrid",
    "echo_ratio",
    "fit_chunk",
    "fit_recovery",
    "fit_recovery_fixed_b1",
]


@dataclass(frozen=True, eq=False)
class RecoveryGrid:
    """Precomputed saturation-recovery basis for the T1 grid search.

    Attributes
    ----------
    td : numpy.ndarray, shape (n_delays,)
        Saturation delays, ms, ascending.
    r1 : numpy.ndarray, shape (G,)
        Grid of R1 = 1/T1 values, 1/ms.
    x : numpy.ndarray, shape (G, n_delays)
        ``exp(-td * r1)`` for each grid point.
    sx, sxx, det : numpy.ndarray, shape (G,)
        Sums of x and x^2 over the delays and the determinant of the 2x2
        normal matrix ``[[n, sx], [sx, sxx]]``.
    """

    td: np.ndarray
    r1: np.ndarray
    x: np.ndarray
    sx: np.ndarray
    sxx: np.ndarray
    det: np.ndarray

    @classmethod
    def build(cls, td, t1_bounds: tuple[float, float], size: int = 20) -> RecoveryGrid:
        """Log-spaced grid of ``size`` T1 values (ms) between ``t1_bounds``."""
        td = np.asarray(td, dtype=float)
        r1 = 1.0 / np.geomspace(t1_bounds[0], t1_bounds[1], size)
        x = np.exp(-np.outer(r1, td))
        sx = x.sum(axis=1)
        sxx = (x * x).sum(axis=1)
        det = td.size * sxx - sx * sx
        return cls(td=td, r1=r1, x=x, sx=sx, sxx=sxx, det=det)


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """Per-voxel results of :func:`fit_chunk` (all shape ``(n,)``).

    Attributes
    ----------
    t1, t2 : numpy.ndarray
        ms (clipped to the bounds).
    m0 : numpy.ndarray
        Equilibrium magnetization at TE = 0, input units.
    b1 : numpy.ndarray
        Flip-angle ratio (clipped to the bounds).
    ok : numpy.ndarray of bool
        The recovery curve was physical (a > 0, b > 0) and every value finite.
    """

    t1: np.ndarray
    t2: np.ndarray
    m0: np.ndarray
    b1: np.ndarray
    ok: np.ndarray


def echo_ratio(s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Total-least-squares echo ratio ``r = S2 / S1`` over the delays.

    Parameters
    ----------
    s1, s2 : numpy.ndarray, shape (n_delays, n)
        Signals at the first and second echo time (same sign convention).

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``tan`` of the principal-axis angle of the scatter of ``(s1, s2)``;
        ``exp(-(TE2 - TE1) / T2)`` for noise-free data.
    """
    p = np.einsum("dn,dn->n", s1, s1)
    s = np.einsum("dn,dn->n", s2, s2)
    q = np.einsum("dn,dn->n", s1, s2)
    return np.tan(0.5 * np.arctan2(2.0 * q, p - s))


def _linear(y: np.ndarray, x: np.ndarray):
    """Closed-form least squares of ``y ~ a + c x`` per voxel; returns a, c, sx, sxx, det."""
    n = y.shape[0]
    sx = x.sum(axis=0)
    sxx = np.einsum("dn,dn->n", x, x)
    sy = y.sum(axis=0)
    sxy = np.einsum("dn,dn->n", x, y)
    det = n * sxx - sx * sx
    a = (sxx * sy - sx * sxy) / det
    c = (n * sxy - sx * sy) / det
    return a, c, sx, sxx, det


def _grid_products(grid: RecoveryGrid, y: np.ndarray) -> np.ndarray:
    """``grid.x @ y``, shape (G, n), without BLAS (whose threads stall on tiny products)."""
    out = grid.x[:, :1] * y[0]
    for d in range(1, y.shape[0]):
        out += grid.x[:, d : d + 1] * y[d]
    return out


def _grid_scores(grid: RecoveryGrid, sy: np.ndarray, sxy: np.ndarray) -> np.ndarray:
    """Score (G, n) of the linear fit at each grid R1: lower is better, inf if not rising.

    The residual sum of squares is ``sum(y^2) - explained`` with ``explained =
    (sxx sy^2 - 2 sx sy sxy + n sxy^2) / det``; ``-explained`` ranks the grid
    points identically. The fit rises with the delay (c < 0) iff
    ``sxy < sx sy / n``.
    """
    n = grid.td.size
    score = (-n / grid.det)[:, None] * sxy
    score += (2.0 * grid.sx / grid.det)[:, None] * sy
    score *= sxy
    score -= (grid.sxx / grid.det)[:, None] * (sy * sy)
    rising = sxy < (grid.sx / n)[:, None] * sy
    return np.where(rising, score, np.inf)


def fit_recovery(
    y: np.ndarray,
    grid: RecoveryGrid,
    r1_init: np.ndarray,
    r1_bounds: tuple[float, float],
    n_iter: int = 5,
):
    """Gauss-Newton refinement of ``y_d = a + c exp(-td_d R1)`` by variable projection.

    Parameters
    ----------
    y : numpy.ndarray, shape (n_delays, n)
        Signed amplitudes, delays ascending.
    grid : RecoveryGrid
        Supplies the delays ``td`` (ms).
    r1_init : numpy.ndarray, shape (n,)
        Starting R1, 1/ms.
    r1_bounds : (float, float)
        Lowest and highest allowed R1, 1/ms.
    n_iter : int
        Gauss-Newton steps.

    Returns
    -------
    r1, a, c : numpy.ndarray, shape (n,)
        ``a`` and ``c = -b`` in the units of ``y``.
    rss : numpy.ndarray, shape (n,)
        Residual sum of squares; ``inf`` where the fitted curve does not rise
        with the delay (``c >= 0``), which is unphysical.
    """
    td = grid.td[:, None]
    r1 = r1_init.copy()
    for step_index in range(n_iter + 1):
        x = np.exp(-td * r1)
        a, c, sx, sxx, det = _linear(y, x)
        residual = y - a - c * x
        if step_index == n_iter:
            break
        # d(model)/dR1 at fixed (a, c) is h = -c td x; project it off span{1, x}.
        h = -c * td * x
        sh = h.sum(axis=0)
        sxh = np.einsum("dn,dn->n", x, h)
        shh = np.einsum("dn,dn->n", h, h)
        n = y.shape[0]
        projected = (sxx * sh * sh - 2.0 * sx * sh * sxh + n * sxh * sxh) / det
        curvature = shh - projected
        gradient = np.einsum("dn,dn->n", h, residual)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = gradient / curvature
        step = np.where(np.isfinite(step), step, 0.0)
        r1 = np.clip(r1 + np.clip(step, -0.5 * r1, r1), r1_bounds[0], r1_bounds[1])
    rss = np.einsum("dn,dn->n", residual, residual)
    return r1, a, c, np.where(c < 0.0, rss, np.inf)


def fit_recovery_fixed_b1(
    amp: np.ndarray,
    td: np.ndarray,
    cos_t: np.ndarray,
    tr: float,
    r1_init: np.ndarray,
    r1_bounds: tuple[float, float],
    *,
    magnitude: bool,
    n_iter: int = 4,
):
    """Gauss-Newton fit of ``y_d = a (1 - q(R1) x_d)`` with the saturation angle known.

    With ``c_t = cos(B1 theta)`` known, ``q = (1 - c_t) / (1 - c_t exp(-TR R1))``
    and only R1 and the scale ``a`` are free (variable projection on R1). For
    magnitudes, the sign of each amplitude is taken from the current model
    curve at every step.

    Parameters
    ----------
    amp : numpy.ndarray, shape (n_delays, n)
        Amplitudes (signed, or magnitudes if ``magnitude``), delays ascending.
    td : numpy.ndarray, shape (n_delays,)
        Delays, ms.
    cos_t : numpy.ndarray, shape (n,)
        Cosine of the actual saturation angle.
    tr : float
        ms.
    r1_init : numpy.ndarray, shape (n,)
        Start (e.g. the free fit), 1/ms.
    r1_bounds : (float, float)
    magnitude : bool
    n_iter : int

    Returns
    -------
    r1, a : numpy.ndarray, shape (n,)
    """
    td = np.asarray(td, dtype=float)[:, None]
    r1 = r1_init.copy()
    for step_index in range(n_iter + 1):
        x = np.exp(-td * r1)
        e_tr = np.exp(-tr * r1)
        denominator = 1.0 - cos_t * e_tr
        q = (1.0 - cos_t) / denominator
        g = 1.0 - q * x
        y = np.copysign(amp, g) if magnitude else amp
        sgg = np.einsum("dn,dn->n", g, g)
        a = np.einsum("dn,dn->n", y, g) / sgg
        if step_index == n_iter:
            break
        residual = y - a * g
        dq = -(1.0 - cos_t) * cos_t * tr * e_tr / (denominator * denominator)
        h = a * (q * td * x - dq * x)  # a dg/dR1
        h -= (np.einsum("dn,dn->n", h, g) / sgg) * g
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.einsum("dn,dn->n", h, residual) / np.einsum("dn,dn->n", h, h)
        step = np.where(np.isfinite(step), step, 0.0)
        r1 = np.clip(r1 + np.clip(step, -0.5 * r1, r1), r1_bounds[0], r1_bounds[1])
    return r1, a


def fit_chunk(
    s1: np.ndarray,
    s2: np.ndarray,
    *,
    grid: RecoveryGrid,
    te: tuple[float, float],
    tr: float,
    sat_angle: float,
    exc_angle: float,
    magnitude: bool,
    t1_bounds: tuple[float, float],
    t2_bounds: tuple[float, float],
    b1_bounds: tuple[float, float],
    n_iter: int = 5,
    b1_fixed: np.ndarray | None = None,
    r1_init: np.ndarray | None = None,
) -> ChunkResult:
    """Fit T1, T2, M0 and B1 to the signals of a chunk of voxels.

    Parameters
    ----------
    s1, s2 : numpy.ndarray, shape (n_delays, n), float64
        Signals at the first and second echo, delays ascending (``grid.td``).
        Magnitudes when ``magnitude`` (their sign is restored), else signed.
    grid : RecoveryGrid
    te : (float, float)
        The two echo times, ms, ``te[0] < te[1]``.
    tr : float
        Repetition time, ms.
    sat_angle, exc_angle : float
        Nominal flip angles, degrees.
    magnitude : bool
        Whether the data are magnitudes.
    t1_bounds, t2_bounds : (float, float)
        Allowed T1 and T2, ms.
    b1_bounds : (float, float)
        Allowed B1 ratio.
    n_iter : int
        Gauss-Newton steps for T1.
    b1_fixed : numpy.ndarray, shape (n,), optional
        Known B1 (e.g. a smoothed B1 map): then only T1, T2 and M0 are fitted
        (:func:`fit_recovery_fixed_b1`), starting from ``r1_init``.
    r1_init : numpy.ndarray, shape (n,), optional
        Starting R1 (1/ms) for the fixed-B1 fit; required with ``b1_fixed``.

    Returns
    -------
    ChunkResult
    """
    if magnitude:
        s1, s2 = np.abs(s1), np.abs(s2)
    dte = te[1] - te[0]
    ratio = np.clip(echo_ratio(s1, s2), np.exp(-dte / t2_bounds[0]), np.exp(-dte / t2_bounds[1]))
    t2 = -dte / np.log(ratio)
    amp = (s1 + ratio * s2) / (1.0 + ratio * ratio)  # amplitudes at TE1

    r1_bounds = (1.0 / t1_bounds[1], 1.0 / t1_bounds[0])
    theta = np.deg2rad(sat_angle)
    if b1_fixed is not None:
        b1 = np.asarray(b1_fixed, dtype=float)
        cos_t = np.cos(theta * b1)
        r1, a = fit_recovery_fixed_b1(
            amp, grid.td, cos_t, tr, r1_init, r1_bounds, magnitude=magnitude, n_iter=n_iter
        )
        return _result(r1, a, cos_t < 1.0, cos_t, b1, t2, te, tr, exc_angle)
    if magnitude:
        r1, a, c = _fit_magnitude_recovery(amp, grid, r1_bounds, n_iter)
    else:
        score = _grid_scores(grid, amp.sum(axis=0), _grid_products(grid, amp))
        r1, a, c, _ = fit_recovery(amp, grid, grid.r1[np.argmin(score, axis=0)], r1_bounds, n_iter)
    b = -c
    cos_t, b1 = _saturation_from_fit(r1, a, b, tr, theta, b1_bounds)
    return _result(r1, a, b > 0, cos_t, b1, t2, te, tr, exc_angle)


def _saturation_from_fit(r1, a, b, tr: float, theta: float, b1_bounds):
    """``cos(B1 theta)`` and B1 from the fitted recovery ``a - b e^(-TD R1)`` (clipped to the
    bounds; 1 where undefined)."""
    e_tr = np.exp(-tr * r1)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = b / a
        cos_t = (1.0 - q) / (1.0 - q * e_tr)
    b1_max = min(b1_bounds[1], np.pi / theta)
    cos_t = np.clip(
        np.nan_to_num(cos_t, nan=1.0), np.cos(theta * b1_max), np.cos(theta * b1_bounds[0])
    )
    return cos_t, np.arccos(cos_t) / theta


def _fit_magnitude_recovery(amp, grid: RecoveryGrid, r1_bounds, n_iter: int):
    """``r1, a, c`` of magnitude amplitudes, whose sign before the null is unknown.

    Two sign patterns are fitted: A, the delays before the smallest amplitude negative;
    B, the smallest one negative too. Each voxel keeps the one with the smaller residual.
    """
    xt = grid.x  # (G, n_delays)
    n_delays, n = amp.shape
    columns = np.arange(n)
    low = np.argmin(amp, axis=0)
    sign = np.where(np.arange(n_delays)[:, None] < low, -1.0, 1.0)
    y = sign * amp  # pattern A: the first `low` delays negative
    sy = y.sum(axis=0)
    sxy = _grid_products(grid, y)
    start_a = np.argmin(_grid_scores(grid, sy, sxy), axis=0)
    amp_low = amp[low, columns]
    # pattern B also flips the smallest amplitude
    start_b = np.argmin(
        _grid_scores(grid, sy - 2.0 * amp_low, sxy - 2.0 * xt[:, low] * amp_low), axis=0
    )
    fit_a = fit_recovery(y, grid, grid.r1[start_a], r1_bounds, n_iter=n_iter)
    y[low, columns] *= -1.0
    fit_b = fit_recovery(y, grid, grid.r1[start_b], r1_bounds, n_iter=n_iter)
    use_b = fit_b[3] < fit_a[3]
    return tuple(np.where(use_b, vb, va) for va, vb in zip(fit_a[:3], fit_b[:3], strict=True))


def _result(r1, a, rising, cos_t, b1, t2, te, tr, exc_angle) -> ChunkResult:
    """M0 from the fitted scale ``a`` and the angles; ``ok`` needs a > 0 and a rising curve."""
    e_tr = np.exp(-tr * r1)
    cos_a = np.cos(np.deg2rad(exc_angle) * b1)
    with np.errstate(divide="ignore", invalid="ignore"):
        m0 = a * (1.0 - cos_t * cos_a * e_tr) / (1.0 - cos_t * e_tr) * np.exp(te[0] / t2)
    t1 = 1.0 / r1
    ok = (a > 0) & rising & np.isfinite(m0) & np.isfinite(t1) & np.isfinite(t2)
    return ChunkResult(t1=t1, t2=t2, m0=m0, b1=b1, ok=ok)
