"""Smooth scanner fields: transmit B1, receive bias and background phase.

All fields are functions of the scanner position, evaluated in normalised
coordinates ``u = (x - center) / 100 mm``:

- **B1 ratio** (actual / nominal flip angle): central brightening typical of
  3 T head imaging (a Gaussian bump) plus a linear gradient, scaled so that
  its largest deviation from 1 over a head-sized sphere is the drawn
  ``deviation`` (the brief's ~0.85-1.15);
- **receive bias**: ``exp`` of a random quadratic polynomial plus a radial
  gain (array coil sensitivity, brighter towards the coil), 1 at the centre;
- **background phase**: one random quadratic polynomial (radians) per echo time,
  the same for all saturation delays of that echo (RF and receive phase, eddy
  currents); the MDME importer removes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "B1Field",
    "BackgroundPhase",
    "ReceiveBias",
    "draw_b1",
    "draw_background_phase",
    "draw_receive_bias",
    "quadratic_basis",
]

_LENGTH_MM = 100.0


def _normalised(points, center) -> np.ndarray:
    points = np.asarray(points, dtype=float)
    if points.ndim < 1 or points.shape[0] != 3:
        raise ValueError(f"points must have shape (3, ...), not {points.shape}")
    center = np.asarray(center, dtype=float).reshape((3,) + (1,) * (points.ndim - 1))
    return (points - center) / _LENGTH_MM


def quadratic_basis(u: np.ndarray) -> np.ndarray:
    """The 10 monomials of degree <= 2 of ``u`` (shape (3, ...)).

    In order: 1, x, y, z, x², y², z², xy, xz, yz.
    """
    x, y, z = u
    return np.stack([np.ones_like(x), x, y, z, x * x, y * y, z * z, x * y, x * z, y * z])


def _reference_points() -> np.ndarray:
    """Points of a sphere of radius 0.8 (80 mm), where the B1 deviation is normalised."""
    axis = np.linspace(-0.8, 0.8, 9)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij")).reshape(3, -1)
    return grid[:, np.sum(grid**2, axis=0) <= 0.8**2]


@dataclass(frozen=True)
class B1Field:
    """``b1(u) = 1 + offset + amplitude exp(-|u - shift|² / (2 width²)) + gradient . u``.

    Values are clipped to [0.5, 1.5] far outside the head (corners of the FOV).
    """

    center_mm: tuple[float, float, float]
    amplitude: float
    width: float
    shift: tuple[float, float, float]
    gradient: tuple[float, float, float]
    offset: float

    def _unclipped(self, points) -> np.ndarray:
        u = _normalised(points, self.center_mm)
        shift = np.asarray(self.shift).reshape((3,) + (1,) * (u.ndim - 1))
        gradient = np.asarray(self.gradient).reshape((3,) + (1,) * (u.ndim - 1))
        bump = np.exp(-np.sum((u - shift) ** 2, axis=0) / (2 * self.width**2))
        return 1.0 + self.offset + self.amplitude * bump + np.sum(gradient * u, axis=0)

    def __call__(self, points) -> np.ndarray:
        """B1 ratio at scanner ``points`` (RAS mm, shape (3, ...))."""
        return np.clip(self._unclipped(points), 0.5, 1.5)


def draw_b1(rng: np.random.Generator, center_mm, deviation_range) -> B1Field:
    """Draw a B1 field whose largest deviation from 1 in the head is in ``deviation_range``."""
    width = rng.uniform(0.5, 0.8)
    shift = rng.normal(0.0, 0.1, 3)
    gradient = rng.normal(0.0, 1.0, 3) * 0.3
    raw = B1Field(tuple(center_mm), 1.0, width, tuple(shift), tuple(gradient), 0.0)
    reference = _reference_points() * _LENGTH_MM + np.asarray(center_mm)[:, None]
    values = raw._unclipped(reference) - 1.0
    half_range = max(0.5 * float(values.max() - values.min()), 1e-9)
    scale = rng.uniform(*deviation_range) / half_range
    offset = -scale * 0.5 * float(values.max() + values.min())
    return B1Field(
        center_mm=tuple(float(c) for c in center_mm),
        amplitude=float(scale),
        width=float(width),
        shift=tuple(float(s) for s in shift),
        gradient=tuple(float(g * scale) for g in gradient),
        offset=float(offset),
    )


@dataclass(frozen=True)
class ReceiveBias:
    """``bias(u) = exp(c . basis(u))`` with ``c[0] = 0`` (1 at the centre)."""

    center_mm: tuple[float, float, float]
    coefficients: tuple[float, ...]

    def __call__(self, points) -> np.ndarray:
        """Multiplicative receive sensitivity at scanner ``points`` (shape (3, ...))."""
        basis = quadratic_basis(_normalised(points, self.center_mm))
        c = np.asarray(self.coefficients).reshape((10,) + (1,) * (basis.ndim - 1))
        return np.exp(np.sum(c * basis, axis=0))


def draw_receive_bias(
    rng: np.random.Generator, center_mm, strength: float, coil_gain=(0.0, 0.0)
) -> ReceiveBias:
    """Draw a receive bias: linear coefficients N(0, strength), quadratic N(0, strength / 2),
    plus a radial gain ``g |u|²`` with ``g`` uniform in ``coil_gain``.

    The radial term is the profile of a receive array, brighter near the coil
    elements: ``exp(g 0.8²)`` at 80 mm from the centre (the cortex), e.g. 1.3-1.8
    for ``g`` in (0.4, 0.9). Scanners flatten it in conventional images
    (surface-coil intensity correction) but not in the MDME raw data.
    """
    if strength < 0 or coil_gain[0] > coil_gain[1]:
        raise ValueError(
            f"strength must be >= 0 and coil_gain (low, high), not {(strength, coil_gain)!r}"
        )
    c = np.zeros(10)
    c[1:4] = rng.normal(0.0, strength, 3)
    c[4:7] = rng.normal(0.0, strength / 2, 3) + rng.uniform(*coil_gain)
    c[7:10] = rng.normal(0.0, strength / 2, 3)
    return ReceiveBias(tuple(float(v) for v in center_mm), tuple(float(v) for v in c))


@dataclass(frozen=True)
class BackgroundPhase:
    """Phase (rad) per echo: ``phase_e(u) = coefficients[e] . basis(u)``."""

    center_mm: tuple[float, float, float]
    coefficients: tuple[tuple[float, ...], ...]

    def __call__(self, points, echo: int) -> np.ndarray:
        """Phase (rad) of echo ``echo`` (0-based) at scanner ``points`` (shape (3, ...))."""
        if not 0 <= echo < len(self.coefficients):
            raise ValueError(f"echo must be in [0, {len(self.coefficients)}), not {echo!r}")
        basis = quadratic_basis(_normalised(points, self.center_mm))
        c = np.asarray(self.coefficients[echo]).reshape((10,) + (1,) * (basis.ndim - 1))
        return np.sum(c * basis, axis=0)


def draw_background_phase(rng: np.random.Generator, center_mm, n_echoes: int) -> BackgroundPhase:
    """Draw a smooth phase per echo: a common part plus an echo-specific part.

    Constant terms are uniform in [-pi, pi); linear terms N(0, 1) rad per 100 mm
    and quadratic terms N(0, 0.5) rad per (100 mm)² for the common part; the
    echo-specific part has half those linear and quadratic spreads.
    """
    spreads = np.array([0.0, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    common = rng.normal(0.0, 1.0, 10) * spreads
    rows = []
    for _ in range(int(n_echoes)):
        row = common + rng.normal(0.0, 1.0, 10) * spreads / 2
        row[0] = rng.uniform(-np.pi, np.pi)
        rows.append(tuple(float(v) for v in row))
    return BackgroundPhase(tuple(float(v) for v in center_mm), tuple(rows))
