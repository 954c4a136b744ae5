"""Statistics of the paper's evaluation: Wilcoxon signed-rank tests, Shapiro-Wilk, the Table.

Public API
----------
- :func:`wilcoxon_signed_rank` -> :class:`WilcoxonResult` (paired, two-sided, exact for small
  untied samples, else the tie- and continuity-corrected normal approximation);
- :func:`shapiro_wilk` -> :class:`ShapiroResult`;
- :class:`StatsConfig`, :func:`read_metrics`, :func:`comparisons_table`, :func:`normality_table`,
  :func:`summary_table`, :func:`format_table`, :func:`run_statistics`;
- :data:`PAPER_TABLE`, :data:`PAPER_DICE`: the paper's reported values.
"""

from synflair.stats.analysis import (
    StatsConfig,
    comparisons_table,
    normality_table,
    read_metrics,
)
from synflair.stats.normality import ShapiroResult, shapiro_wilk
from synflair.stats.paper import PAPER_DICE, PAPER_N_TEST, PAPER_TABLE
from synflair.stats.run import OUTPUT_NAMES, run_statistics
from synflair.stats.table import format_table, summary_table
from synflair.stats.wilcoxon import WilcoxonResult, wilcoxon_signed_rank

__all__ = [
    "OUTPUT_NAMES",
    "PAPER_DICE",
    "PAPER_N_TEST",
    "PAPER_TABLE",
    "ShapiroResult",
    "StatsConfig",
    "WilcoxonResult",
    "comparisons_table",
    "format_table",
    "normality_table",
    "read_metrics",
    "run_statistics",
    "shapiro_wilk",
    "summary_table",
    "wilcoxon_signed_rank",
]
