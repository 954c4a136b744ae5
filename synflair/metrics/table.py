"""The tidy metrics table: its columns and the scaling of rows that have none.

One owner for the contract between ``synflair metrics`` (which writes the
per-subject TSVs, :mod:`synflair.metrics.subject`) and ``synflair stats``
(which reads them, :mod:`synflair.stats.analysis`).
"""

from __future__ import annotations

__all__ = ["COLUMNS", "REGIONS", "SCALING_NONE"]

#: Columns of the tidy metrics table, in order.
COLUMNS = (
    "subject",
    "image",
    "region",
    "scaling",
    "metric",
    "value",
    "n_voxels",
    "scale_factor",
    "note",
)
#: ``scaling`` of rows that do not depend on intensity scaling (lesion overlap, contrast).
SCALING_NONE = "none"
#: ``region`` of the image-metric rows, in the paper's order (tissues from ``*_dseg.nii.gz``,
#: then the whole intracranial mask).
REGIONS = ("GM", "WM", "CSF", "intracranial")
