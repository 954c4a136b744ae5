"""Metrics of the paper's evaluation: PSNR, NRMSE, NRMSE maps, Dice, per subject and region.

Public API
----------
- :func:`psnr`, :func:`nrmse`, :func:`nrmse_map`, :func:`mse` (inside a mask);
- :func:`dice` (binary masks);
- :class:`MetricsConfig`, :func:`region_masks`, :func:`subject_metrics` (one tidy table per
  subject, written by ``synflair metrics``).
"""

from synflair.metrics.image import PAPER_PEAK, mse, nrmse, nrmse_map, psnr
from synflair.metrics.overlap import dice
from synflair.metrics.subject import (
    COLUMNS,
    DSEG_LABELS,
    REGIONS,
    MetricsConfig,
    region_masks,
    subject_metrics,
)

__all__ = [
    "COLUMNS",
    "DSEG_LABELS",
    "PAPER_PEAK",
    "REGIONS",
    "MetricsConfig",
    "dice",
    "mse",
    "nrmse",
    "nrmse_map",
    "psnr",
    "region_masks",
    "subject_metrics",
]
