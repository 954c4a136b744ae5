"""``synflair register``: conventional FLAIR -> synthetic FLAIR space.

Example::

    synflair register --moving FLAIR.nii.gz --fixed SYN_FLAIR.nii.gz --out REG.nii.gz \\
        --transform XFM.json [--itk XFM.txt] [--flirt XFM.mat] \\
        [--backend auto|fsl|ants] [--dof 6|12] \\
        [--apply-to LESIONS.nii.gz LESIONS_REG.nii.gz ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synflair.registration.backend import BACKENDS
from synflair.registration.transform import DOFS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``synflair register``."""
    parser.add_argument("--moving", required=True, type=Path, help="image to move (FLAIR)")
    parser.add_argument(
        "--fixed", required=True, type=Path, help="target space and grid (synthetic FLAIR)"
    )
    parser.add_argument("--out", required=True, type=Path, help="moving image on the fixed grid")
    parser.add_argument(
        "--transform",
        required=True,
        type=Path,
        help="output JSON: fixed_to_moving_world (x_moving = M @ x_fixed, RAS mm) and motion",
    )
    parser.add_argument(
        "--itk",
        type=Path,
        help="also write the transform as an ITK text file (antsApplyTransforms, antspyx)",
    )
    parser.add_argument(
        "--flirt", type=Path, help="also write the FLIRT matrix (flirt -in MOVING -ref FIXED)"
    )
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    parser.add_argument("--dof", type=int, choices=DOFS, default=6, help="6 rigid, 12 affine")
    parser.add_argument(
        "--interp",
        choices=("linear", "spline"),
        default="linear",
        help="interpolation of the registered image",
    )
    parser.add_argument(
        "--fixed-mask", type=Path, help="restrict the similarity metric to this fixed-grid mask"
    )
    parser.add_argument(
        "--ants-preset",
        choices=("standard", "fast"),
        default="standard",
        help="ANTs iteration budget (fast: 100/50/20 per level)",
    )
    parser.add_argument(
        "--apply-to",
        nargs=2,
        action="append",
        default=[],
        metavar=("IN", "OUT"),
        help="also resample IN (moving space) to OUT on the fixed grid; repeatable",
    )
    parser.add_argument(
        "--apply-interp",
        choices=("auto", "linear", "nearest", "spline"),
        default="auto",
        help="interpolation for --apply-to (auto: nearest for labels/binary masks, else linear)",
    )


def run(args: argparse.Namespace) -> None:
    """Run ``synflair register``."""
    from synflair.registration import api
    from synflair.registration.ants import ANTS_PRESETS
    from synflair.registration.backend import resolve_backend

    backend = resolve_backend(args.backend, ("flirt",))
    settings = ANTS_PRESETS[args.ants_preset] if backend == "ants" else None
    transform = api.register(
        args.moving,
        args.fixed,
        args.out,
        backend=backend,
        dof=args.dof,
        out_transform=args.transform,
        interpolation=args.interp,
        fixed_mask=args.fixed_mask,
        settings=settings,
        out_itk=args.itk,
        out_flirt=args.flirt,
    )
    for source, target in args.apply_to:
        api.apply_transform(
            source,
            args.fixed,
            transform,
            target,
            interpolation=args.apply_interp,
            backend=backend,
        )
