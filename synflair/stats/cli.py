"""``synflair stats``: Wilcoxon statistics and the paper's table from per-subject metrics."""

from __future__ import annotations

import argparse

from synflair.errors import SynflairError
from synflair.stats.analysis import DEFAULT_STATS, StatsConfig
from synflair.stats.run import OUTPUT_NAMES, run_statistics
from synflair.stats.wilcoxon import METHODS, NAN_POLICIES

#: Options that set one :class:`StatsConfig` field of the same name (its default is the
#: option's): option -> (argparse keywords, help).
CONFIG_OPTIONS = {
    "--scaling": ({}, "intensity scaling whose rows are analysed: common or raw"),
    "--baseline": ({}, "image compared against every other image"),
    "--compare": ({}, "second image column of table.tsv"),
    "--method": (
        {"choices": METHODS},
        "Wilcoxon p-value: exact when n <= --exact-max-n without ties or zeros (auto), "
        "or always exact/normal",
    ),
    "--exact-max-n": ({"type": int}, "largest n for the exact p-value under auto"),
    "--nan-policy": (
        {"choices": NAN_POLICIES},
        "a NaN value makes the test NaN with a reason (propagate) or drops the subject "
        "from that test (omit)",
    ),
}


def _field(option: str) -> str:
    return option.removeprefix("--").replace("-", "_")


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
    for option, (keywords, text) in CONFIG_OPTIONS.items():
        default = getattr(DEFAULT_STATS, _field(option))
        parser.add_argument(
            option, default=default, help=f"{text} (default: {default})", **keywords
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
        "--no-continuity-correction",
        action="store_true",
        help="normal approximation without the continuity correction",
    )


def stats_config(args: argparse.Namespace) -> StatsConfig:
    """The :class:`StatsConfig` the parsed options describe."""
    try:
        return StatsConfig(
            **{_field(option): getattr(args, _field(option)) for option in CONFIG_OPTIONS},
            metrics=tuple(args.metric_names or DEFAULT_STATS.metrics),
            correction=not args.no_continuity_correction,
        )
    except ValueError as error:
        raise SynflairError(f"synflair stats options: {error}") from error


def run(args: argparse.Namespace) -> None:
    """Run ``synflair stats``."""
    run_statistics(args.metrics, args.out_dir, stats_config(args))
