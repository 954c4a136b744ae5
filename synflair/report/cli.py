"""``synflair report``: (re)build the HTML report from a results folder."""

from __future__ import annotations

import argparse

from synflair.report.api import report_from_results
from synflair.report.configfile import read_report_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", default="results", help="results folder of the workflow")
    parser.add_argument("--configfile", required=True, help="the workflow's config YAML")
    parser.add_argument("--out", required=True, help="output HTML file")
    parser.add_argument("--n-train", type=int, default=None, help="training subjects (methods)")
    parser.add_argument(
        "--phantom",
        default=None,
        help="phantom cohort folder, for the true lesion counts (default: resources/phantom "
        "beside --results, if there)",
    )


def run(args: argparse.Namespace) -> None:
    config = read_report_config(args.configfile, where="--configfile")
    report_from_results(args.results, config, args.out, n_train=args.n_train, phantom=args.phantom)
