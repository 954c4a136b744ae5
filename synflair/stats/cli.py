"""``synflair stats``: Wilcoxon statistics and the paper's table from per-subject metrics."""

from __future__ import annotations

import argparse

from synflair.errors import SynflairError
from synflair.stats.analysis import DEFAULT_STATS, StatsConfig
from synflair.stats.run import OUTPUT_NAMES, run_statistics
from synflair.stats.wilcoxon import METHODS, NAN_POLICIES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``synflair stats``."""
    names = ", ".join(OUTPUT_NAMES.values())
    parser.add_argument(
        "--metrics",
        nargs="+",
        required=True,
        metavar="TSV",
        help="per-subject metric TSVs of 'synflair metrics'",
    )
    parser.add_argument("--out-dir", required=True, help=f"folder for {names}")
    parser.add_argument(
        "--scaling",
        default=DEFAULT_STATS.scaling,
        help="intensity scaling whose rows are analysed: common or raw "
        f"(default: {DEFAULT_STATS.scaling})",
    )
    parser.add_argument(
        "--baseline",
        default=DEFAULT_STATS.baseline,
        help=f"image compared against every other image (default: {DEFAULT_STATS.baseline})",
    )
    parser.add_argument(
        "--compare",
        default=DEFAULT_STATS.compare,
        help=f"second image column of table.tsv (default: {DEFAULT_STATS.compare})",
    )
    parser.add_argument(
        "--metric",
        dest="metric_names",
        action="append",
        metavar="NAME",
        help="image-quality metric to test (repeatable; default: "
        f"{', '.join(DEFAULT_STATS.metrics)})",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default=DEFAULT_STATS.method,
        help="Wilcoxon p-value: exact when n <= --exact-max-n without ties or "
        "zeros (auto), or always exact/normal",
    )
    parser.add_argument(
        "--exact-max-n",
        type=int,
        default=DEFAULT_STATS.exact_max_n,
        help=f"largest n for the exact p-value under auto (default {DEFAULT_STATS.exact_max_n})",
    )
    parser.add_argument(
        "--no-continuity-correction",
        action="store_true",
        help="normal approximation without the continuity correction",
    )
    parser.add_argument(
        "--nan-policy",
        choices=NAN_POLICIES,
        default=DEFAULT_STATS.nan_policy,
        help="a NaN value makes the test NaN with a reason (propagate) or drops the subject "
        f"from that test (omit; default: {DEFAULT_STATS.nan_policy})",
    )


def run(args: argparse.Namespace) -> None:
    """Run ``synflair stats``."""
    try:
        config = StatsConfig(
            baseline=args.baseline,
            compare=args.compare,
            metrics=tuple(args.metric_names or DEFAULT_STATS.metrics),
            scaling=args.scaling,
            method=args.method,
            correction=not args.no_continuity_correction,
            exact_max_n=args.exact_max_n,
            nan_policy=args.nan_policy,
        )
    except ValueError as error:
        raise SynflairError(f"synflair stats options: {error}") from error
    run_statistics(args.metrics, args.out_dir, config)
