"""``synflair train``: one training stage from a manifest and a preset.

::

    synflair train --stage 1 --manifest M.tsv --config config/train/demo.yaml \\
        --out stage-1/model.pt --workdir stage-1/run [--resume] [--device auto] \\
        [--validation V.tsv]
    synflair train --stage 2 ... --init stage-1/model.pt --out stage-2/model.pt

Writes ``--out`` (the model: weights, configuration, normalization) and, in
``--workdir``, ``checkpoint.pt``, ``losses.tsv`` and ``losses.png``. On SIGTERM
it writes a checkpoint and exits with status 143; rerun with ``--resume``.
"""

from __future__ import annotations

import argparse
import logging

from synflair.train.api import train_stage_files
from synflair.train.session import EXIT_INTERRUPTED, TrainingInterrupted

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``synflair train``."""
    parser.add_argument(
        "--stage",
        type=int,
        choices=(1, 2),
        required=True,
        help="1: generator by MAE + discriminator pretraining; 2: cGAN",
    )
    parser.add_argument(
        "--manifest",
        required=True,
        help="TSV with columns subject, mdme, mask, target, conventional",
    )
    parser.add_argument("--config", required=True, help="training preset YAML (config/train/)")
    parser.add_argument("--out", required=True, help="model file to write (MODEL.pt)")
    parser.add_argument(
        "--workdir", required=True, help="directory for checkpoint.pt, losses.tsv and losses.png"
    )
    parser.add_argument("--init", help="initial weights (required for stage 2: the stage-1 model)")
    parser.add_argument(
        "--resume", action="store_true", help="continue from WORKDIR/checkpoint.pt if present"
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="training device (auto: CUDA when available)",
    )
    parser.add_argument(
        "--iterations", type=int, help="override the preset's iteration count of this stage"
    )
    parser.add_argument("--threads", type=int, help="CPU threads torch may use (default: all)")
    parser.add_argument(
        "--validation",
        help="validation manifest TSV (the manifest's columns, optionally lesions and dseg): "
        "the weights kept are chosen on these subjects (config selection.every)",
    )


def run(args: argparse.Namespace) -> None:
    """Run ``synflair train``."""
    try:
        train_stage_files(
            stage=args.stage,
            manifest=args.manifest,
            config=args.config,
            out=args.out,
            workdir=args.workdir,
            init=args.init,
            validation=args.validation,
            iterations=args.iterations,
            device=args.device,
            resume=args.resume,
            threads=args.threads,
        )
    except TrainingInterrupted as interrupted:
        log.warning("%s", interrupted)
        raise SystemExit(EXIT_INTERRUPTED) from None
