"""``synflair quantify``: maps, synthetic FLAIR and T1w, and the intracranial mask of an MDME exam.

::

    synflair quantify --mdme sub-01_mdme.nii.gz --out DIR [--prefix P]
                      [--flair-tr 15000 --flair-te 100 --flair-ti 3000] [--t1w-tr 500 --t1w-te 10]
                      [--b1-smoothing 10] [--threads N]

parses the options and calls :func:`synflair.quantify.api.quantify_file`, which
writes the maps, the synthetic images and the mask (the files:
:mod:`synflair.quantify.api`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synflair.errors import SynflairError
from synflair.io.plausibility import check_option_ms
from synflair.physics import (
    SYNTHETIC_FLAIR,
    SYNTHETIC_T1W,
    InversionRecoveryProtocol,
    SpinEchoProtocol,
)
from synflair.quantify.api import QuantifyOptions, quantify_file
from synflair.quantify.model import FitSettings

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``synflair quantify``."""
    parser.add_argument("--mdme", required=True, type=Path, help="4D MDME NIfTI (with .json)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--prefix", help="output name prefix (default: from the input name)")
    flair, t1w = SYNTHETIC_FLAIR, SYNTHETIC_T1W
    parser.add_argument("--flair-tr", type=float, default=flair.tr, help="synthetic FLAIR TR, ms")
    parser.add_argument("--flair-te", type=float, default=flair.te, help="synthetic FLAIR TE, ms")
    parser.add_argument("--flair-ti", type=float, default=flair.ti, help="synthetic FLAIR TI, ms")
    parser.add_argument("--t1w-tr", type=float, default=t1w.tr, help="synthetic T1w TR, ms")
    parser.add_argument("--t1w-te", type=float, default=t1w.te, help="synthetic T1w TE, ms")
    parser.add_argument(
        "--b1-smoothing",
        type=float,
        default=10.0,
        metavar="MM",
        help="FWHM (mm) of the smooth B1 field for the second pass; 0: B1 per voxel (default 10)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="fitting threads (default: all available cores)"
    )


def run(args: argparse.Namespace) -> None:
    """Run ``synflair quantify``."""
    for option, value, kind in (
        ("--flair-tr", args.flair_tr, "RepetitionTime"),
        ("--flair-te", args.flair_te, "EchoTime"),
        ("--flair-ti", args.flair_ti, "InversionTime"),
        ("--t1w-tr", args.t1w_tr, "RepetitionTime"),
        ("--t1w-te", args.t1w_te, "EchoTime"),
    ):
        check_option_ms(option, value, kind)
    try:
        options = QuantifyOptions(
            flair=InversionRecoveryProtocol(tr=args.flair_tr, te=args.flair_te, ti=args.flair_ti),
            t1w=SpinEchoProtocol(tr=args.t1w_tr, te=args.t1w_te),
            fit=FitSettings(b1_smoothing_mm=args.b1_smoothing, n_threads=args.threads),
        )
    except ValueError as error:
        raise SynflairError(f"bad option: {error}") from error
    paths = quantify_file(args.mdme, args.out, args.prefix, options)
    for path in paths.values():
        print(path)
