"""File-level API of the stats stage: metrics TSVs in, the three statistics tables out.

``synflair stats`` (:mod:`synflair.stats.cli`) parses its options into a
:class:`~synflair.stats.analysis.StatsConfig` and calls :func:`run_statistics`, which
writes the tables atomically; the workflow's ``evaluate_stats`` rule runs that command.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from synflair.atomic import write_tsv
from synflair.stats.analysis import (
    DEFAULT_STATS,
    StatsConfig,
    comparisons_table,
    normality_table,
    read_metrics,
)
from synflair.stats.table import format_table, summary_table

log = logging.getLogger(__name__)

#: File names written into the output folder.
OUTPUT_NAMES = {"table": "table.tsv", "tests": "tests.tsv", "normality": "normality.tsv"}


def run_statistics(
    metrics_paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    config: StatsConfig = DEFAULT_STATS,
) -> dict[str, Path]:
    """Concatenate per-subject metric TSVs; write ``table.tsv``, ``tests.tsv``, ``normality.tsv``.

    Parameters
    ----------
    metrics_paths : sequence of path-like
        TSVs of ``synflair metrics`` (one per subject, or already concatenated).
    out_dir : path-like
        Created if needed.
    config : StatsConfig

    Returns
    -------
    dict of str -> pathlib.Path
        Keys ``"table"``, ``"tests"``, ``"normality"``.
    """
    metrics = read_metrics(metrics_paths)
    tests = comparisons_table(metrics, config)
    normality = normality_table(metrics, config)
    table = format_table(summary_table(metrics, tests, config), config)
    out_dir = Path(out_dir)
    paths = {key: out_dir / name for key, name in OUTPUT_NAMES.items()}
    write_tsv(paths["tests"], tests)
    write_tsv(paths["normality"], normality)
    write_tsv(paths["table"], table)
    n_subjects = metrics["subject"].nunique()
    log.info("%d subject(s), %d test(s) -> %s", n_subjects, len(tests), out_dir)
    return paths
