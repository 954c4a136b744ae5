"""``synflair figure``: one slice of each phantom image (:mod:`synflair.phantom.figure`)."""

from __future__ import annotations

import argparse

from synflair.phantom.figure import phantom_figure

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``synflair figure``."""
    parser.add_argument("--phantom", required=True, metavar="DIR", help="cohort folder")
    parser.add_argument("--subject", required=True, metavar="ID", help="e.g. ph01")
    parser.add_argument("--out", required=True, metavar="PNG", help="figure to write")
    parser.add_argument("--slice", type=int, default=None, help="axial slice (default: middle)")


def run(args: argparse.Namespace) -> None:
    """Write the figure."""
    phantom_figure(args.phantom, args.subject, args.out, args.slice)
