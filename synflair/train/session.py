"""A training session: initialization, resume, the iteration loop, checkpoints and the model file.

:func:`train_stage` runs one stage to its iteration count. In ``workdir`` it
keeps ``checkpoint.pt`` (the latest resumable state, every
``checkpoint_every`` iterations, at the end and on SIGTERM) and ``losses.tsv``
(updated with each checkpoint); at the end it draws ``losses.png`` and writes
the model file ``out``.

Resuming restores the weights, both Adam states, the patch sampler's RNG
state, the iteration and the loss log, so that on the CPU a resumed run ends
with exactly the weights of an uninterrupted one.

Randomness comes only from ``config.seed``: the initial weights from a CPU
``torch.Generator`` seeded with ``(seed, "init")``, the patches of stage ``s``
from a generator on the training device seeded with ``(seed, s)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from synflair.atomic import write_json
from synflair.errors import SynflairError
from synflair.models import init_parameters
from synflair.models.device import describe_device
from synflair.models.modelfile import (
    CHECKPOINT_FORMAT,
    VERSION,
    ModelFile,
    build_discriminator,
    build_generator,
    cpu_state,
    save_archive,
    save_model,
)
from synflair.models.normalization import InputNormalization
from synflair.progress import Progress
from synflair.train.checkpoint import load_checkpoint
from synflair.train.config import TrainConfig
from synflair.train.data import PatchSampler, TrainingData, VoxelSampler
from synflair.train.progress import LossLog, loss_summary
from synflair.train.trainer import Trainer
from synflair.train.validation import Score, ValidationSubject, is_better, score_generator

__all__ = [
    "EXIT_INTERRUPTED",
    "StopFlag",
    "TrainingInterrupted",
    "check_init",
    "model_sidecar",
    "stop_on_sigterm",
    "train_stage",
    "with_iterations",
]

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"


#: Exit status after a SIGTERM-triggered checkpoint (128 + SIGTERM).
EXIT_INTERRUPTED = 143


class TrainingInterrupted(Exception):
    """Training stopped on request (SIGTERM) after writing a checkpoint."""

    def __init__(self, checkpoint: Path, iteration: int) -> None:
        super().__init__(f"stopped at iteration {iteration}; resumable state in {checkpoint}")
        self.checkpoint = checkpoint
        self.iteration = iteration


class StopFlag:
    """Set by a signal handler; the training loop checks :attr:`requested` every iteration."""

    def __init__(self) -> None:
        self.requested = False


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[StopFlag]:
    """Within the block, SIGTERM (e.g. SLURM preemption) sets a :class:`StopFlag`.

    The previous handler is restored on exit. Outside the main thread (where
    handlers cannot be installed) the flag is never set.
    """
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        log.warning("received signal %d: writing a checkpoint and stopping", signum)
        flag.requested = True

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGTERM, previous)


def seed_for(seed: int, purpose: int | str) -> int:
    """A 63-bit seed for one purpose derived from the configuration's seed."""
    key = purpose if isinstance(purpose, int) else int.from_bytes(purpose.encode(), "little")
    return int(np.random.SeedSequence([seed, key]).generate_state(1, np.uint64)[0] >> 1)


def with_iterations(config: TrainConfig, stage: int, iterations: int | None) -> TrainConfig:
    """``config`` with stage ``stage``'s iteration count replaced (``None``: unchanged)."""
    if iterations is None:
        return config
    if iterations < 1:
        raise SynflairError(f"--iterations must be a positive integer, not {iterations!r}")
    name = f"stage{stage}"
    return dataclasses.replace(
        config, **{name: dataclasses.replace(config.stage(stage), iterations=iterations)}
    )


def _comparable(config: TrainConfig) -> dict:
    """Config as a dict without what may change between resumed runs (iteration counts)."""
    mapping = config.to_dict()
    for name in ("stage1", "stage2"):
        mapping[name].pop("iterations")
    return mapping


def _differences(a: dict, b: dict, names: tuple[str, str], prefix: str = "") -> list[str]:
    """``key: value_a (name_a) vs value_b (name_b)`` for every differing dotted key."""
    keys = sorted(set(a) | set(b))
    out = []
    for key in keys:
        dotted = f"{prefix}{key}"
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _differences(va, vb, names, f"{dotted}.")
        elif va != vb:
            out.append(f"{dotted}: {va!r} ({names[0]}) vs {vb!r} ({names[1]})")
    return out


def check_init(model: ModelFile, config: TrainConfig) -> None:
    """Raise unless ``model`` has the architecture and normalization of ``config``."""
    model.check_inputs(config.data.in_channels, config.data.inputs)
    ours, theirs = config.to_dict(), model.config
    differing = _differences(
        {k: theirs[k] for k in ("generator", "discriminator")},
        {k: ours[k] for k in ("generator", "discriminator")},
        ("model", "configuration"),
    )
    rule = InputNormalization.from_config(config.data)
    if model.normalization != rule:
        differing += _differences(
            model.normalization.to_dict(), rule.to_dict(), ("model", "configuration"), "data."
        )
    if differing:
        raise SynflairError(
            f"{model.path}: trained with a different network or normalization than the "
            f"configuration ({'; '.join(differing)})"
        )


class _Selection:
    """Stage-2 model selection: the validation scores so far and the weights of the best.

    Active only in stage 2 with validation subjects and ``selection.every > 0``: stage 1
    fits the synthetic FLAIR and keeps its last weights, which stage 2 then scores as
    its first candidate.
    """

    def __init__(
        self, config: TrainConfig, stage: int, validation: list[ValidationSubject] | None
    ) -> None:
        self.config = config
        self.stage = stage
        self.validation = validation
        self.active = bool(validation) and config.selection.every > 0 and stage == 2
        self.best: Score | None = None
        self.best_state: dict = {}
        self.history: list[dict] = []

    def due(self, iteration: int, total: int) -> bool:
        """Whether the weights after ``iteration`` are scored (every ``every``, and the last)."""
        every = self.config.selection.every
        return self.active and (iteration % every == 0 or iteration == total)

    def score(self, generator: torch.nn.Module, discriminator: torch.nn.Module, iteration: int):
        """Score the generator on the validation subjects; keep both networks if it is the best."""
        current = score_generator(generator, self.validation, iteration)
        self.history.append(current.to_dict())
        log.info(
            "stage %d, iteration %d, validation: PSNR %.2f dB, lesion contrast %.3f",
            self.stage, iteration, current.psnr, current.contrast,
        )  # fmt: skip
        if is_better(current, self.best, self.config.selection.min_contrast):
            self.best = current
            self.best_state = {
                "generator": cpu_state(generator),
                "discriminator": cpu_state(discriminator),
            }

    def state(self) -> dict | None:
        """The checkpoint's ``validation`` entry: history, best score and weights (or None)."""
        if not self.active or self.best is None:
            return None
        return {"history": self.history, "best": self.best.to_dict(), **self.best_state}

    def restore(self, kept: dict | None) -> None:
        """Continue from a checkpoint's :meth:`state`; none kept: no candidate scored yet."""
        if self.active and kept:
            self.history = list(kept["history"])
            self.best = Score(**kept["best"])
            self.best_state = {k: kept[k] for k in ("generator", "discriminator")}

    def finish(
        self, generator: torch.nn.Module, discriminator: torch.nn.Module, workdir: Path
    ) -> dict | None:
        """Load the best weights, write ``validation.tsv``; return what the model file records."""
        if not self.active:
            return None
        generator.load_state_dict(self.best_state["generator"])
        discriminator.load_state_dict(self.best_state["discriminator"])
        pd.DataFrame(self.history).to_csv(workdir / "validation.tsv", sep="\t", index=False)
        best = self.best
        selection = {
            "rule": (
                "highest validation intracranial PSNR among evaluations with lesion contrast "
                f">= {self.config.selection.min_contrast:g} (else the highest contrast)"
            ),
            "subjects": [subject.subject for subject in self.validation],
            **{f"validation_{k}": v for k, v in best.to_dict().items() if k != "iteration"},
            "iteration": best.iteration,
        }
        log.info("selected iteration %d on %s", best.iteration, ", ".join(selection["subjects"]))
        return selection


def _check_stage_inputs(
    config: TrainConfig, stage: int, data: TrainingData, init: ModelFile | None
) -> None:
    """Raise unless stage 2 has its initial model and data and ``init`` fit ``config``."""
    if stage == 2 and init is None:
        raise SynflairError("stage 2 starts from the stage-1 weights: pass --init STAGE1.pt")
    if data.in_channels != config.data.in_channels:
        raise SynflairError(
            f"training data have {data.in_channels} input channels; data.inputs "
            f"{config.data.inputs!r} needs {config.data.in_channels}"
        )
    if init is not None:
        check_init(init, config)


def _networks(
    config: TrainConfig, init: ModelFile | None, device: torch.device
) -> tuple[torch.nn.Module, torch.nn.Module]:
    """Generator and discriminator on ``device``: ``init``'s weights, else seeded initial ones."""
    generator, discriminator = build_generator(config), build_discriminator(config)
    if init is None:
        weights = torch.Generator().manual_seed(seed_for(config.seed, "init"))
        init_parameters(generator, weights)
        init_parameters(discriminator, weights)
    else:
        generator.load_state_dict(init.generator_state)
        discriminator.load_state_dict(init.discriminator_state)
    generator.to(device)
    discriminator.to(device)
    return generator, discriminator


class _StageRun:
    """One stage's training state: networks, optimizers, samplers and their RNGs, loss log.

    :meth:`state` and :meth:`restore` are the resumable part of a checkpoint.
    """

    def __init__(
        self, config: TrainConfig, stage: int, data: TrainingData, init: ModelFile | None
    ) -> None:
        device = data.device
        self.config, self.stage, self.device = config, stage, device
        self.normalization = InputNormalization.from_config(config.data)
        self.generator, self.discriminator = _networks(config, init, device)
        self.trainer = Trainer(config, stage, self.generator, self.discriminator, device)
        objective = config.objective
        rng = torch.Generator(device=device).manual_seed(seed_for(config.seed, stage))
        self.sampler_rng = rng
        self.sampler = None
        if objective.uses_discriminator or objective.voxels == 0:
            self.sampler = PatchSampler(data, config.data.patch_size, config.data.batch_size, rng)
        voxel_rng = torch.Generator(device=device).manual_seed(seed_for(config.seed, f"v{stage}"))
        self.voxel_rng = voxel_rng
        # the lesion share is a stage-2 term: stage 1 fits the synthetic FLAIR, bright in lesions
        share = objective.lesion_share if stage == 2 else 0.0
        self.voxel_sampler = (
            VoxelSampler(data, objective.voxels, voxel_rng, share) if objective.voxels else None
        )
        self.losses = LossLog(stage, device)
        self.iteration = 0

    def step(self) -> None:
        """One iteration at the scheduled step size; its losses go to the loss log."""
        self.trainer.set_lr_factor(self.config.stage(self.stage).lr_factor(self.iteration))
        batch = self.sampler.sample() if self.sampler is not None else None
        voxels = self.voxel_sampler.sample() if self.voxel_sampler is not None else None
        self.losses.add(self.trainer.step(batch, voxels))
        self.iteration += 1

    def state(self) -> dict:
        """The checkpoint's contents (CPU tensors), without the selection state."""
        return {
            "format": CHECKPOINT_FORMAT,
            "version": VERSION,
            "stage": self.stage,
            "iteration": self.iteration,
            "config": self.config.to_dict(),
            "in_channels": self.normalization.in_channels,
            "normalization": self.normalization.to_dict(),
            "generator": cpu_state(self.generator),
            "discriminator": cpu_state(self.discriminator),
            "opt_generator": cpu_state(self.trainer.opt_generator),
            "opt_discriminator": cpu_state(self.trainer.opt_discriminator),
            "rng": {
                "sampler": self.sampler_rng.get_state().cpu(),
                "voxels": self.voxel_rng.get_state().cpu(),
            },
            "log": self.losses.state(),
        }

    def restore(self, state: dict, selection: _Selection) -> None:
        """Continue from checkpoint ``state``: optimizers, samplers' RNGs, loss log, selection.

        The networks' weights are loaded first, by :func:`_resume`.
        """
        self.trainer.load_state(state)
        self.sampler_rng.set_state(state["rng"]["sampler"])
        if "voxels" in state["rng"]:
            self.voxel_rng.set_state(state["rng"]["voxels"])
        self.losses.load_state(state["log"])
        selection.restore(state.get("validation"))


def _check_resumable(state: dict, path: Path, config: TrainConfig, stage: int, total: int):
    """Raise unless the checkpoint ``state`` (read from ``path``) continues this stage's run."""
    if state["stage"] != stage:
        raise SynflairError(
            f"{path}: a stage-{state['stage']} checkpoint; cannot resume stage "
            f"{stage} from it (use another --workdir)"
        )
    differing = _differences(
        _comparable(state["config"]), _comparable(config), ("checkpoint", "configuration")
    )
    if differing:
        raise SynflairError(
            f"{path}: written with a different configuration "
            f"({'; '.join(differing)}); use another --workdir or drop --resume"
        )
    if state["iteration"] > total:
        raise SynflairError(
            f"{path}: at iteration {state['iteration']}, beyond the {total} iterations asked for"
        )


def _resume(run: _StageRun, selection: _Selection, path: Path, total: int) -> None:
    """Restore ``run`` and ``selection`` from the checkpoint ``path``."""
    state = load_checkpoint(path)
    _check_resumable(state, path, run.config, run.stage, total)
    run.generator.load_state_dict(state["generator"])  # checked by load_checkpoint
    run.discriminator.load_state_dict(state["discriminator"])
    try:
        run.restore(state, selection)
    except (ValueError, RuntimeError, KeyError, TypeError, AttributeError) as error:
        raise SynflairError(
            f"{path}: unusable optimizer, sampler or loss-log state "
            f"({' '.join(str(error).split())})"
        ) from error
    run.iteration = int(state["iteration"])
    log.info("resuming stage %d from %s at iteration %d", run.stage, path, run.iteration)


def _save_checkpoint(run: _StageRun, selection: _Selection, path: Path) -> None:
    """Write the resumable state to ``path`` and ``losses.tsv`` beside it."""
    payload = run.state()
    kept = selection.state()
    if kept is not None:
        payload["validation"] = kept
    save_archive(path, payload)
    run.losses.write(path.parent, plot=False)  # the curve is drawn at the end (~1 s per plot)


def _iterate(
    run: _StageRun, selection: _Selection, total: int, stop: StopFlag | None, checkpoint: Path
) -> None:
    """Train to ``total`` iterations: score, log, checkpoint on schedule and stop on request."""
    config = run.config
    # every log_every iterations: "stage 1: N/M (p%), R it/s, ETA H:MM:SS: losses" (a bar on a TTY)
    progress = Progress(
        total, f"stage {run.stage}", every=config.log_every, initial=run.iteration, logger=log
    )
    if selection.active and selection.best is None:
        # the initial weights (stage 2: the stage-1 model) are a candidate too; so are those of
        # a checkpoint written without validation subjects
        selection.score(run.generator, run.discriminator, run.iteration)
    with progress:
        while run.iteration < total:
            run.step()
            iteration = run.iteration
            if selection.due(iteration, total):
                selection.score(run.generator, run.discriminator, iteration)
            row = None
            if iteration % config.log_every == 0 or iteration == total:
                row = run.losses.flush(iteration)
            progress.update(1, detail=loss_summary(row) if row else "")
            scheduled = iteration % config.checkpoint_every == 0 or iteration == total
            stopping = stop is not None and stop.requested and iteration < total
            if scheduled or stopping:
                _save_checkpoint(run, selection, checkpoint)
            if stopping:
                raise TrainingInterrupted(checkpoint, iteration)


def _write_model(run: _StageRun, out: str | os.PathLike, total: int, selection: dict | None):
    """Write the model file ``out`` and its sidecar (:func:`model_sidecar`); return its path."""
    ran_on = describe_device(run.device)
    path = save_model(
        out,
        stage=run.stage,
        iterations=total,
        config=run.config,
        normalization=run.normalization,
        generator=run.generator,
        discriminator=run.discriminator,
        selection=selection,
        device=ran_on,
    )
    write_json(
        model_sidecar(path),
        {"stage": run.stage, "iterations": total, "device": ran_on, "torch": torch.__version__,
         "selection": selection or {}},
    )  # fmt: skip
    return path


def train_stage(
    config: TrainConfig,
    stage: int,
    data: TrainingData,
    *,
    out: str | os.PathLike,
    workdir: str | os.PathLike,
    init: ModelFile | None = None,
    resume: bool = False,
    stop: StopFlag | None = None,
    validation: list[ValidationSubject] | None = None,
) -> Path:
    """Train one stage and write the model file ``out``.

    Parameters
    ----------
    config : TrainConfig
        With the stage's iteration count already final (see :func:`with_iterations`).
    stage : int
        1 (MAE + D pretraining) or 2 (cGAN).
    data : TrainingData
        On the training device.
    out : path-like
        The model file written at the end.
    workdir : path-like
        Holds ``checkpoint.pt``, ``losses.tsv`` and ``losses.png``.
    init : ModelFile, optional
        Initial G and D weights (required for stage 2: the stage-1 model).
    resume : bool
        Continue from ``workdir/checkpoint.pt`` if it exists.
    stop : StopFlag, optional
        When ``stop.requested`` becomes true, a checkpoint is written and
        :class:`TrainingInterrupted` raised.
    validation : list of ValidationSubject, optional
        Stage 2 with ``selection.every > 0``: scored at the start (the stage-1 weights)
        and every ``every`` iterations (``workdir/validation.tsv``); the weights written
        are those of the best score (:func:`synflair.train.validation.is_better`), and
        the model file records what was chosen and on which subjects. Stage 1 keeps its
        last weights.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    _check_stage_inputs(config, stage, data, init)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    checkpoint = workdir / CHECKPOINT_NAME
    total = config.stage(stage).iterations
    run = _StageRun(config, stage, data, init)
    selection = _Selection(config, stage, validation)
    if resume and checkpoint.is_file():
        _resume(run, selection, checkpoint, total)
    elif resume:
        log.info("no checkpoint in %s; starting stage %d afresh", workdir, stage)
    _iterate(run, selection, total, stop, checkpoint)
    run.losses.write(workdir)
    chosen = selection.finish(run.generator, run.discriminator, workdir)
    return _write_model(run, out, total, chosen)


def model_sidecar(model: str | os.PathLike) -> Path:
    """``MODEL.json`` beside ``MODEL.pt``: what ran (device, torch) and how weights were chosen.

    Readable without torch (the report reads it).
    """
    return Path(model).with_suffix(".json")
