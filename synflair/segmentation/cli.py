"""``synflair segment``: GM/WM/CSF segmentation of the R1 map or a T1w inside a mask.

Example::

    synflair segment --image R1MAP_OR_T1W.nii.gz --mask MASK.nii.gz --out DIR --prefix sub-ph01 \\
        [--backend auto|fsl|ants]

writes ``DIR/P_dseg.nii.gz`` (0 background, 1 CSF, 2 GM, 3 WM) and
``DIR/P_label-{CSF,GM,WM}_probseg.nii.gz``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synflair.registration.backend import BACKENDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``synflair segment``."""
    parser.add_argument(
        "--image",
        "--t1w",
        dest="image",
        required=True,
        type=Path,
        help="image to segment: the R1 map (the workflow's default) or a T1w "
        "(--t1w is the same option under its old name)",
    )
    parser.add_argument(
        "--mask", required=True, type=Path, help="intracranial mask on the T1w grid"
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument(
        "--prefix", default=None, help="file name prefix (default: the T1w name up to '_')"
    )
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    parser.add_argument(
        "--mrf-beta",
        type=float,
        default=None,
        help="MRF strength (FAST -H, default 0.1; Atropos smoothing factor, default 0.2)",
    )


def default_prefix(t1w: Path) -> str:
    """``sub-ph01`` from ``sub-ph01_desc-synthetic_T1w.nii.gz``; the stem if it has no ``_``."""
    stem = t1w.name.split(".")[0]
    return stem.split("_")[0] if "_" in stem else stem


def run(args: argparse.Namespace) -> None:
    """Run ``synflair segment``."""
    from synflair.registration.backend import resolve_backend
    from synflair.segmentation.ants import AtroposSettings
    from synflair.segmentation.api import segment
    from synflair.segmentation.fsl import FastSettings

    backend = resolve_backend(args.backend, ("fast",))
    settings = None
    if args.mrf_beta is not None:
        kind = FastSettings if backend == "fsl" else AtroposSettings
        try:
            settings = kind(mrf_beta=args.mrf_beta)
        except ValueError as error:
            from synflair.errors import SynflairError

            raise SynflairError(f"--mrf-beta: {error}") from error
    prefix = args.prefix if args.prefix is not None else default_prefix(args.image)
    segment(args.image, args.mask, args.out, prefix, backend=backend, settings=settings)
