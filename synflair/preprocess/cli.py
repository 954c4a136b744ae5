"""``synflair preprocess``: the CSF-suppressed synthetic FLAIR (:mod:`synflair.preprocess.api`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from synflair.errors import SynflairError
from synflair.preprocess.api import FORMS, CSFSuppression, csf_suppress_file

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``synflair preprocess``."""
    default = CSFSuppression()
    parser.add_argument("--flair", required=True, type=Path, help="synthetic FLAIR NIfTI")
    parser.add_argument("--mdme", required=True, type=Path, help="4D MDME NIfTI, same grid")
    parser.add_argument("--out", required=True, type=Path, help="CSF-suppressed FLAIR to write")
    parser.add_argument("--mask-out", type=Path, help="also write the suppressed voxels (uint8)")
    for name, ratio in (("ir", "IR"), ("t2", "T2")):
        index = getattr(default, f"{name}_index")
        parser.add_argument(
            f"--{name}-index", type=int, nargs=2, metavar=("A", "B"), default=index,
            help=f"1-based images of the {ratio} ratio S_A/S_B (default: {index[0]} {index[1]})",
        )  # fmt: skip
    for name in ("ir", "t2"):
        threshold = getattr(default, f"{name}_threshold")
        parser.add_argument(
            f"--{name}-threshold", type=float, default=threshold, help=f"default: {threshold}"
        )
    parser.add_argument(
        "--ir-form",
        choices=FORMS,
        default=default.ir_form,
        help=f"IR value: S_A/S_B or 1 - S_A/S_B (default: {default.ir_form})",
    )
    parser.add_argument(
        "--t2-form",
        choices=FORMS,
        default=default.t2_form,
        help=f"T2 value (default: {default.t2_form}; one_minus_ratio is the paper's literal text)",
    )


def run(args: argparse.Namespace) -> None:
    """Run ``synflair preprocess``."""
    try:
        rule = CSFSuppression(
            ir_index=tuple(args.ir_index),
            t2_index=tuple(args.t2_index),
            ir_threshold=args.ir_threshold,
            t2_threshold=args.t2_threshold,
            ir_form=args.ir_form,
            t2_form=args.t2_form,
        )
    except ValueError as error:
        raise SynflairError(f"bad option: {error}") from error
    for path in csf_suppress_file(args.flair, args.mdme, args.out, args.mask_out, rule):
        print(path)
