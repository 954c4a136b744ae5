"""File-level training API: one stage from a manifest and a preset to a model file.

:func:`train_stage_files` is what ``synflair train`` and the workflow's training
rule (``workflow/scripts/train.py``) both run: paths in, the model file out.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from synflair.errors import SynflairError
from synflair.train.checkpoint import load_model
from synflair.train.config import load_config
from synflair.train.data import InputNormalization, load_training_data, read_manifest
from synflair.train.session import (
    check_init,
    describe_device,
    resolve_device,
    stop_on_sigterm,
    train_stage,
    with_iterations,
)
from synflair.train.validation import load_validation, read_validation_manifest

__all__ = ["train_stage_files"]

log = logging.getLogger(__name__)


def train_stage_files(
    *,
    stage: int,
    manifest: str | os.PathLike,
    config: str | os.PathLike,
    out: str | os.PathLike,
    workdir: str | os.PathLike,
    init: str | os.PathLike | None = None,
    validation: str | os.PathLike | None = None,
    iterations: int | None = None,
    device: str = "auto",
    resume: bool = False,
) -> Path:
    """Train one stage and write the model file ``out`` (and ``out`` with ``.json``).

    Parameters
    ----------
    stage : {1, 2}
    manifest : path-like
        Training manifest TSV (:func:`synflair.train.data.read_manifest`).
    config : path-like
        Training preset YAML.
    out, workdir : path-like
        The model file; the folder of the resumable checkpoint and loss log.
    init : path-like, optional
        Stage-1 model (required for stage 2).
    validation : path-like, optional
        Validation manifest (model selection on those subjects).
    iterations : int, optional
        Override the preset's iteration count.
    device : {"auto", "cpu", "cuda"}
    resume : bool
        Continue from ``workdir``'s checkpoint when there is one.

    Raises
    ------
    SynflairError
        For bad inputs, naming the file or key.
    synflair.train.session.TrainingInterrupted
        On SIGTERM, after writing a checkpoint.
    """
    if stage == 2 and not init:
        raise SynflairError("--stage 2 starts from the stage-1 weights: pass --init STAGE1.pt")
    settings = with_iterations(load_config(config), stage, iterations)
    target = resolve_device(device)
    initial = None
    if init:
        initial = load_model(init)
        check_init(initial, settings)
    rows = read_manifest(manifest)
    if target.type == "cuda":
        torch.backends.cudnn.benchmark = True
    log.info("training on %s (--device %s)", describe_device(target), device)
    log.info("loading %d training subjects onto %s", len(rows), target)
    normalization = InputNormalization.from_config(settings.data)
    data = load_training_data(rows, normalization, target)
    data.check_patch_size(settings.data.patch_size)
    subjects = None
    if validation:
        subjects = _validation_subjects(validation, manifest, rows, normalization)
        if settings.selection.every == 0:
            log.warning("--validation given but selection.every is 0: no model selection")
    iterations_total = settings.stage(stage).iterations
    log.info("%d slices; stage %d, %d iterations", data.slices.shape[0], stage, iterations_total)
    with stop_on_sigterm() as stop:
        written = train_stage(
            settings,
            stage,
            data,
            out=out,
            workdir=workdir,
            init=initial,
            resume=resume,
            stop=stop,
            validation=subjects,
        )
    log.info("wrote %s", written)
    return written


def _validation_subjects(validation, manifest, rows, normalization):
    """The validation subjects, none of which may be a training subject."""
    val_rows = read_validation_manifest(validation)
    overlap = sorted({r.subject for r in rows} & {paths.subject for paths, _ in val_rows})
    if overlap:
        raise SynflairError(
            f"{validation}: subject(s) {overlap} are also in the training manifest "
            f"{manifest}; validation subjects must not be trained on"
        )
    subjects = load_validation(val_rows, normalization)
    log.info("%d validation subjects", len(subjects))
    return subjects
