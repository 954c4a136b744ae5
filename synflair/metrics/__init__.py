"""Metrics of the paper's evaluation: PSNR, NRMSE, NRMSE maps, Dice, per subject and region.

Public API
----------
- :func:`psnr`, :func:`nrmse`, :func:`nrmse_map`, :func:`mse` (inside a mask);
- :func:`dice` (binary masks);
- :class:`MetricsConfig`, :func:`region_masks`, :func:`subject_metrics` (one tidy table per
  subject; its :data:`COLUMNS` and :data:`REGIONS` are :mod:`synflair.metrics.table`'s);
- the file-level API of ``synflair metrics``: :mod:`synflair.metrics.api`.
"""

from synflair.metrics.image import PAPER_PEAK, mse, nrmse, nrmse_map, psnr
from synflair.metrics.overlap import dice
from synflair.metrics.subject import DSEG_LABELS, MetricsConfig, region_masks, subject_metrics
from synflair.metrics.table import COLUMNS, REGIONS

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
