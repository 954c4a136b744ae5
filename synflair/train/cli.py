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

import torch

from synflair.errors import SynflairError
from synflair.train.checkpoint import load_model
from synflair.train.config import load_config
from synflair.train.data import InputNormalization, load_training_data, read_manifest
from synflair.train.session import (
    TrainingInterrupted,
    check_init,
    describe_device,
    resolve_device,
    stop_on_sigterm,
    train_stage,
    with_iterations,
)
from synflair.train.validation import load_validation, read_validation_manifest

log = logging.getLogger(__name__)

#: Exit status after a SIGTERM-triggered checkpoint (128 + SIGTERM).
EXIT_INTERRUPTED = 143


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
    parser.add_argument(
        "--validation",
        help="validation manifest TSV (the manifest's columns, optionally lesions and dseg): "
        "the weights kept are chosen on these subjects (config selection.every)",
    )


def run(args: argparse.Namespace) -> None:
    """Run ``synflair train``."""
    if args.stage == 2 and not args.init:
        raise SynflairError("--stage 2 starts from the stage-1 weights: pass --init STAGE1.pt")
    config = with_iterations(load_config(args.config), args.stage, args.iterations)
    device = resolve_device(args.device)
    init = None
    if args.init:
        init = load_model(args.init)
        check_init(init, config)
    rows = read_manifest(args.manifest)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    log.info("training on %s (--device %s)", describe_device(device), args.device)
    log.info("loading %d training subjects onto %s", len(rows), device)
    data = load_training_data(rows, InputNormalization.from_config(config.data), device)
    data.check_patch_size(config.data.patch_size)
    validation = None
    if args.validation:
        val_rows = read_validation_manifest(args.validation)
        overlap = sorted({r.subject for r in rows} & {paths.subject for paths, _ in val_rows})
        if overlap:
            raise SynflairError(
                f"{args.validation}: subject(s) {overlap} are also in the training manifest "
                f"{args.manifest}; validation subjects must not be trained on"
            )
        validation = load_validation(val_rows, InputNormalization.from_config(config.data))
        log.info("%d validation subjects", len(validation))
        if config.selection.every == 0:
            log.warning("--validation given but selection.every is 0: no model selection")
    log.info(
        "%d slices; stage %d, %d iterations",
        data.slices.shape[0],
        args.stage,
        config.stage(args.stage).iterations,
    )
    with stop_on_sigterm() as stop:
        try:
            out = train_stage(
                config,
                args.stage,
                data,
                out=args.out,
                workdir=args.workdir,
                init=init,
                resume=args.resume,
                stop=stop,
                validation=validation,
            )
        except TrainingInterrupted as interrupted:
            log.warning("%s", interrupted)
            raise SystemExit(EXIT_INTERRUPTED) from None
    log.info("wrote %s", out)
