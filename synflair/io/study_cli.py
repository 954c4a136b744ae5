"""``synflair find-series``: which series of a study folder are the MDME and the FLAIR.

Examples
--------
::

    synflair find-series exports/patient01
    synflair find-series exports/patient01 --mdme-series 5 --flair-series 1.2.840.99.7

Prints one line per series (number, files, role, description, why, UID) and the
series chosen for each role; an ambiguous or incomplete folder is an error that
says how to choose (:mod:`synflair.io.study`).
"""

from __future__ import annotations

import argparse
import logging

from synflair.errors import SynflairError
from synflair.io.study import CHOICE_COLUMNS, ROLES, choose, find_series


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``find-series`` options to ``parser``."""
    parser.add_argument("study", metavar="STUDY_DIR", help="folder of one exam's DICOM export")
    parser.add_argument(
        "--mdme-series",
        default=None,
        metavar="UID|NUMBER",
        help="SeriesInstanceUID or SeriesNumber of the MDME raw series (when ambiguous)",
    )
    parser.add_argument(
        "--flair-series",
        default=None,
        metavar="UID|NUMBER",
        help="SeriesInstanceUID or SeriesNumber of the conventional FLAIR (when ambiguous)",
    )
    parser.add_argument(
        "--delay-attribute",
        default=None,
        metavar="NAME",
        help="DICOM keyword or 'gggg,eeee' tag of the MDME saturation delay "
        "(default: TriggerTime, else InversionTime)",
    )


def run(args: argparse.Namespace) -> None:
    """Print the table of series and the series chosen for each role."""
    logger = logging.getLogger("synflair.io.study")
    level = logger.level
    logger.setLevel(logging.WARNING)  # the table is printed, not logged as well
    try:
        study = find_series(args.study, args.delay_attribute)
    finally:
        logger.setLevel(level)
    print(study.table())
    problems = []
    for role in ROLES:
        try:
            series = choose(study, role, getattr(args, CHOICE_COLUMNS[role]))
        except SynflairError as error:
            problems.append(str(error).split(" The series: ")[0])
            continue
        print(f"{role}: series {series.number} {series.description!r} ({len(series.files)} files)")
    if problems:
        raise SynflairError("; ".join(problems))
