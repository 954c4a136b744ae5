"""Settings of the MDME fit (:class:`FitSettings`)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

__all__ = ["FitSettings", "available_threads"]


def available_threads() -> int:
    """Number of CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _bounds(name: str, value, low_limit: float) -> tuple[float, float]:
    pair = tuple(float(v) for v in value)
    if len(pair) != 2 or not (low_limit < pair[0] < pair[1] < math.inf):
        raise ValueError(f"{name} must be (low, high) with {low_limit} < low < high, not {value!r}")
    return pair


@dataclass(frozen=True)
class FitSettings:
    """How :class:`MDMEModel` fits.

    Attributes
    ----------
    t1_bounds, t2_bounds : (float, float)
        Allowed T1 and T2, ms; estimates are clipped to them.
    b1_bounds : (float, float)
        Allowed B1 ratio (at most ``180 / sat_angle`` is used).
    background : float
        Fraction (0 <= f < 1) of the 99th percentile of the voxels' mean
        magnitude below which a voxel is background and not fitted.
    pd_reference : "csf" or float
        ``"csf"``: M0 of 100 % PD is the median M0 of CSF-like voxels (T1 >=
        ``csf_t1_min``); a positive number: that M0 (input units).
    csf_t1_min : float
        T1 (ms) from which a valid voxel counts as CSF for the PD reference.
    min_csf_voxels : int
        Fewest CSF-like voxels for the ``"csf"`` reference.
    grid_size : int
        Points of the T1 starting grid.
    n_iter : int
        Gauss-Newton steps for T1.
    b1_smoothing_mm : float
        0 (default): B1 is fitted in every voxel like T1, T2 and PD. > 0: a
        second pass fits T1, T2 and PD with B1 fixed to a smooth field, the
        per-voxel B1 of parenchyma-like voxels (``b1_weight_t1``,
        ``b1_weight_t2``) smoothed with a Gaussian of this FWHM (mm);
        see :mod:`synflair.quantify.b1`.
    b1_weight_t1, b1_weight_t2 : (float, float)
        T1 and T2 ranges (ms) of the voxels whose B1 estimates feed the field.
    chunk_size : int
        Voxels per work unit (small enough to stay in cache).
    n_threads : int or None
        Worker threads; ``None``: all cores available to the process.
    """

    t1_bounds: tuple[float, float] = (50.0, 8000.0)
    t2_bounds: tuple[float, float] = (5.0, 3000.0)
    b1_bounds: tuple[float, float] = (0.4, 1.6)
    background: float = 0.08
    pd_reference: str | float = "csf"
    csf_t1_min: float = 3000.0
    min_csf_voxels: int = 20
    grid_size: int = 12
    n_iter: int = 6
    b1_smoothing_mm: float = 0.0
    b1_weight_t1: tuple[float, float] = (700.0, 1600.0)
    b1_weight_t2: tuple[float, float] = (60.0, 120.0)
    chunk_size: int = 8192
    n_threads: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "t1_bounds", _bounds("t1_bounds", self.t1_bounds, 0.0))
        object.__setattr__(self, "t2_bounds", _bounds("t2_bounds", self.t2_bounds, 0.0))
        object.__setattr__(self, "b1_bounds", _bounds("b1_bounds", self.b1_bounds, 0.0))
        for name in ("b1_weight_t1", "b1_weight_t2"):
            object.__setattr__(self, name, _bounds(name, getattr(self, name), 0.0))
        smoothing = self.b1_smoothing_mm
        if isinstance(smoothing, bool) or not (
            isinstance(smoothing, int | float) and 0 <= smoothing < math.inf
        ):
            raise ValueError(f"b1_smoothing_mm must be a number >= 0 (mm), not {smoothing!r}")
        if not 0.0 <= self.background < 1.0:
            raise ValueError(f"background must be in [0, 1), not {self.background!r}")
        ref = self.pd_reference
        if isinstance(ref, str):
            if ref != "csf":
                raise ValueError(f"pd_reference must be 'csf' or a positive number, not {ref!r}")
        elif isinstance(ref, bool) or not (isinstance(ref, int | float) and 0 < ref < math.inf):
            raise ValueError(f"pd_reference must be 'csf' or a positive number, not {ref!r}")
        if not self.csf_t1_min > 0:
            raise ValueError(f"csf_t1_min must be > 0 ms, not {self.csf_t1_min!r}")
        for name, low in (("min_csf_voxels", 1), ("grid_size", 3), ("n_iter", 0)):
            if int(getattr(self, name)) < low:
                raise ValueError(f"{name} must be an integer >= {low}, not {getattr(self, name)!r}")
        if int(self.chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, not {self.chunk_size!r}")
        if self.n_threads is not None and int(self.n_threads) < 1:
            raise ValueError(f"n_threads must be None or >= 1, not {self.n_threads!r}")
