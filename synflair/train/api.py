"""File-level training API: one stage from a manifest and a preset to a model file.

:func:`train_stage_files` is what ``synflair train`` and the workflow's training
rule (``workflow/scripts/train.py``) both run: paths in, the model file out.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import torch

from synflair.atomic import write_json
from synflair.errors import SynflairError
from synflair.models.device import describe_device, resolve_device
from synflair.models.modelfile import add_training_record, load_model
from synflair.models.normalization import InputNormalization
from synflair.models.record import TrainingRecord, training_record
from synflair.tables import read_tsv
from synflair.train.config import load_config
from synflair.train.data import load_training_data, read_manifest
from synflair.train.session import (
    check_init,
    model_sidecar,
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
    threads: int | None = None,
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
    threads : int, optional
        CPU threads torch may use (the workflow passes the rule's ``threads``); default: torch's.

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
    _set_threads(threads)
    target = _training_device(device)
    initial = None
    if init:
        initial = load_model(init)
        check_init(initial, settings)
    rows = read_manifest(manifest)
    _check_manifest(settings, rows, manifest, config)
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
    _record_training(written, manifest, rows)
    return written


def _check_manifest(settings, rows, manifest, config) -> None:
    """Refuse a manifest without the columns the recipe draws from."""
    _check_lesion_maps(settings, rows, manifest, config)
    _check_synthetic(settings, rows, manifest, config)


def _check_lesion_maps(settings, rows, manifest, config) -> None:
    """Refuse ``objective.lesion_share > 0`` on a manifest without lesion maps.

    Checked in both stages (the workflow gives both the same manifest), so that a run
    stops before stage 1 rather than after it.
    """
    share = settings.objective.lesion_share
    if share > 0 and all(row.lesions is None for row in rows):
        raise SynflairError(
            f"{manifest}: no 'lesions' column (the conventional FLAIR's lesion maps), but "
            f"objective.lesion_share = {share} in {config} draws from them"
        )


def _check_synthetic(settings, rows, manifest, config) -> None:
    """Refuse ``data.relative: true`` on a manifest without every subject's synthetic FLAIR."""
    missing = [row.subject for row in rows if row.synthetic is None]
    if settings.data.relative and missing:
        raise SynflairError(
            f"{manifest}: no synthetic FLAIR ('synthetic' column) for subject(s) {missing}, "
            f"but data.relative: true in {config} makes it an input"
        )


def _training_device(device: str) -> torch.device:
    """Resolve ``--device`` and log what training runs on."""
    target = resolve_device(device)
    if target.type == "cuda":
        torch.backends.cudnn.benchmark = True
    log.info("training on %s (--device %s)", describe_device(target), device)
    return target


def _set_threads(threads: int | None) -> None:
    """Limit torch's CPU threads to ``threads`` (None: leave torch's default)."""
    if threads is None:
        return
    if threads < 1:
        raise SynflairError(f"--threads must be a positive integer, not {threads!r}")
    torch.set_num_threads(threads)


def _record_training(written: Path, manifest, rows) -> None:
    """Record in the model file and its JSON sidecar what the model was trained on."""
    record = _training_record(manifest, rows)
    add_training_record(written, record)
    _add_to_sidecar(model_sidecar(written), record)
    log.info("wrote %s; trained on %s", written, record.describe())


#: Optional manifest column: the conventional FLAIR's JSON sidecar (TE/TI/TR, s) per row.
FLAIR_SIDECAR_COLUMN = "conventional_sidecar"


def _training_record(manifest, rows) -> TrainingRecord:
    """What the model was trained on: the subjects, their MDME sidecars' protocols and,
    where the manifest has the column :data:`FLAIR_SIDECAR_COLUMN`, the FLAIR targets'."""
    frame = read_tsv(manifest, what="the training manifest")
    flair = list(frame[FLAIR_SIDECAR_COLUMN]) if FLAIR_SIDECAR_COLUMN in frame else []
    record = training_record(
        [r.subject for r in rows], [r.mdme for r in rows], [f for f in flair if f.strip()]
    )
    if not record.protocols:
        log.warning(
            "no training subject's MDME NIfTI has a JSON sidecar beside it: the model "
            "records no protocol, so inference cannot check new exams against it"
        )
    elif len(record.protocols) > 1:
        log.warning("the training subjects have %d MDME protocols", len(record.protocols))
    return record


def _add_to_sidecar(path: Path, record: TrainingRecord) -> None:
    """Add ``trained_on`` to the model's JSON sidecar (what the report reads without torch)."""
    meta = json.loads(path.read_text()) if path.is_file() else {}
    write_json(path, {**meta, "trained_on": record.to_dict()})


def _validation_subjects(validation, manifest, rows, normalization):
    """The validation subjects, none of which may be a training subject."""
    val_rows = read_validation_manifest(validation)
    missing = [paths.subject for paths, _ in val_rows if paths.synthetic is None]
    if normalization.relative and missing:
        raise SynflairError(
            f"{validation}: no synthetic FLAIR ('synthetic' column) for subject(s) {missing}, "
            "but data.relative: true makes it an input"
        )
    overlap = sorted({r.subject for r in rows} & {paths.subject for paths, _ in val_rows})
    if overlap:
        raise SynflairError(
            f"{validation}: subject(s) {overlap} are also in the training manifest "
            f"{manifest}; validation subjects must not be trained on"
        )
    subjects = load_validation(val_rows, normalization)
    log.info("%d validation subjects", len(subjects))
    return subjects
