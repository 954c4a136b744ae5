"""``synflair report``: (re)build the HTML report from a results folder."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from synflair.errors import SynflairError
from synflair.report.build import build_report
from synflair.report.layout import discover


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
    path = Path(args.configfile)
    if not path.is_file():
        raise SynflairError(f"--configfile {path}: no such file")
    config = yaml.safe_load(path.read_text())
    inputs = discover(args.results, args.phantom)
    representative = config.get("report", {}).get("representative")
    if isinstance(representative, str):
        representative = [representative]
    build_report(inputs, config, args.out, representative=representative, n_train=args.n_train)
