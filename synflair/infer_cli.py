"""``synflair infer``: parse the arguments and call :func:`synflair.infer.infer_file`.

::

    synflair infer --model stage-2/model.pt --mdme sub-01_mdme.nii.gz \
        --mask sub-01_mask.nii.gz --out sub-01_desc-dl_FLAIR.nii.gz [--full]
"""

from __future__ import annotations

import argparse

from synflair.infer import infer_file

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``synflair infer``."""
    parser.add_argument("--model", required=True, help="model file (or training checkpoint)")
    parser.add_argument("--mdme", required=True, help="4D MDME NIfTI (8 images, delay-major)")
    parser.add_argument("--out", required=True, help="DL-FLAIR NIfTI to write")
    parser.add_argument("--mask", help="intracranial mask on the MDME grid")
    parser.add_argument(
        "--synthetic",
        help="the exam's synthetic FLAIR on the MDME grid (synflair quantify); needed by "
        "models trained with data.relative: true",
    )
    parser.add_argument(
        "--sidecar",
        help="the MDME JSON sidecar, checked against the model's training protocol "
        "(default: the .json beside --mdme)",
    )
    parser.add_argument(
        "--full", action="store_true", help="evaluate every voxel, not only the mask"
    )
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"),
                        help="cpu (default; fast fused kernel), cuda, or auto")  # fmt: skip
    parser.add_argument("--threads", type=int, help="CPU worker threads (default: torch's)")


def run(args: argparse.Namespace) -> None:
    """Run ``synflair infer``."""
    infer_file(
        model=args.model,
        mdme=args.mdme,
        out=args.out,
        mask=args.mask,
        sidecar=args.sidecar,
        full=args.full,
        device=args.device,
        threads=args.threads,
        synthetic=args.synthetic,
    )
