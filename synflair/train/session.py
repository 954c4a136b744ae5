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
from synflair.progress import Progress
from synflair.train.checkpoint import (
    CHECKPOINT_FORMAT,
    VERSION,
    ModelFile,
    build_discriminator,
    build_generator,
    cpu_state,
    load_checkpoint,
    save_archive,
    save_model,
)
from synflair.train.config import TrainConfig
from synflair.train.data import InputNormalization, PatchSampler, TrainingData, VoxelSampler
from synflair.train.progress import LossLog, loss_summary
from synflair.train.trainer import Trainer
from synflair.train.validation import Score, ValidationSubject, is_better, score_generator

__all__ = [
    "EXIT_INTERRUPTED",
    "StopFlag",
    "TrainingInterrupted",
    "check_init",
    "describe_device",
    "gpu_allocated",
    "model_sidecar",
    "resolve_device",
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


def gpu_allocated() -> str | None:
    """Why this process looks like it was given a GPU (the scheduler's variables), or None."""
    for variable in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS"):
        value = os.environ.get(variable, "").strip()
        if value and value not in ("-1", "NoDevFiles"):
            return f"{variable}={value}"
    return None


def describe_device(device: torch.device) -> str:
    """The device that ran, in words: ``cuda:0 (NVIDIA H100 80GB HBM3)`` or ``cpu (...)``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    build = f"torch {torch.__version__}"
    build += f", CUDA {torch.version.cuda}" if torch.version.cuda else ", no CUDA build"
    return f"cpu ({build}, {torch.get_num_threads()} threads)"


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``.

    ``auto`` on a node where the scheduler allocated a GPU that torch cannot use
    (a CPU-only torch build, a driver mismatch) falls back to the CPU with a
    warning that says why, instead of silently.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        allocated = gpu_allocated()
        if allocated:
            reason = (
                "this torch build has no CUDA (install a CUDA build of pytorch)"
                if not torch.version.cuda
                else f"torch (CUDA {torch.version.cuda}) finds no usable GPU (driver?)"
            )
            log.warning(
                "GPU ALLOCATED BUT NOT USED: %s, but %s; training on the CPU", allocated, reason
            )
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise SynflairError("--device cuda: no CUDA device is available (use auto or cpu)")
        return torch.device("cuda")
    raise SynflairError(f"device must be 'auto', 'cpu' or 'cuda', not {name!r}")


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
    ours, theirs = config.to_dict(), model.config.to_dict()
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
    if stage == 2 and init is None:
        raise SynflairError("stage 2 starts from the stage-1 weights: pass --init STAGE1.pt")
    if data.in_channels != config.data.in_channels:
        raise SynflairError(
            f"training data have {data.in_channels} input channels; data.inputs "
            f"{config.data.inputs!r} needs {config.data.in_channels}"
        )
    if init is not None:
        check_init(init, config)
    device = data.device
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = workdir / CHECKPOINT_NAME
    normalization = InputNormalization.from_config(config.data)
    total = config.stage(stage).iterations

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
    trainer = Trainer(config, stage, generator, discriminator, device)
    objective = config.objective
    sampler_rng = torch.Generator(device=device).manual_seed(seed_for(config.seed, stage))
    sampler = None
    if objective.uses_discriminator or objective.voxels == 0:
        sampler = PatchSampler(data, config.data.patch_size, config.data.batch_size, sampler_rng)
    voxel_rng = torch.Generator(device=device).manual_seed(seed_for(config.seed, f"v{stage}"))
    voxel_sampler = VoxelSampler(data, objective.voxels, voxel_rng) if objective.voxels else None
    losses = LossLog(stage, device)
    iteration = 0
    # the final model (stage 2) is selected; stage 1 fits the synthetic FLAIR and keeps its
    # last weights, which stage 2 then scores as its first candidate
    selecting = bool(validation) and config.selection.every > 0 and stage == 2
    best: Score | None = None
    best_state: dict = {}
    history: list[dict] = []

    def score() -> None:
        nonlocal best, best_state
        current = score_generator(generator, validation, iteration)
        history.append(current.to_dict())
        log.info(
            "stage %d, iteration %d, validation: PSNR %.2f dB, lesion contrast %.3f",
            stage, iteration, current.psnr, current.contrast,
        )  # fmt: skip
        if is_better(current, best, config.selection.min_contrast):
            best = current
            best_state = {
                "generator": cpu_state(generator),
                "discriminator": cpu_state(discriminator),
            }

    if resume and checkpoint_path.is_file():
        state = load_checkpoint(checkpoint_path)
        if state["stage"] != stage:
            raise SynflairError(
                f"{checkpoint_path}: a stage-{state['stage']} checkpoint; cannot resume stage "
                f"{stage} from it (use another --workdir)"
            )
        differing = _differences(
            _comparable(state["config"]), _comparable(config), ("checkpoint", "configuration")
        )
        if differing:
            raise SynflairError(
                f"{checkpoint_path}: written with a different configuration "
                f"({'; '.join(differing)}); use another --workdir or drop --resume"
            )
        if state["iteration"] > total:
            raise SynflairError(
                f"{checkpoint_path}: at iteration {state['iteration']}, beyond the "
                f"{total} iterations asked for"
            )
        generator.load_state_dict(state["generator"])  # checked by load_checkpoint
        discriminator.load_state_dict(state["discriminator"])
        try:
            trainer.load_state(state)
            sampler_rng.set_state(state["rng"]["sampler"])
            if "voxels" in state["rng"]:
                voxel_rng.set_state(state["rng"]["voxels"])
            losses.load_state(state["log"])
            if selecting and state.get("validation"):
                kept = state["validation"]
                history = list(kept["history"])
                best = Score(**kept["best"])
                best_state = {k: kept[k] for k in ("generator", "discriminator")}
        except (ValueError, RuntimeError, KeyError, TypeError, AttributeError) as error:
            raise SynflairError(
                f"{checkpoint_path}: unusable optimizer, sampler or loss-log state "
                f"({' '.join(str(error).split())})"
            ) from error
        iteration = int(state["iteration"])
        log.info("resuming stage %d from %s at iteration %d", stage, checkpoint_path, iteration)
    elif resume:
        log.info("no checkpoint in %s; starting stage %d afresh", workdir, stage)

    def checkpoint() -> None:
        payload = {
            "format": CHECKPOINT_FORMAT,
            "version": VERSION,
            "stage": stage,
            "iteration": iteration,
            "config": config.to_dict(),
            "in_channels": normalization.in_channels,
            "normalization": normalization.to_dict(),
            "generator": cpu_state(generator),
            "discriminator": cpu_state(discriminator),
            "opt_generator": cpu_state(trainer.opt_generator),
            "opt_discriminator": cpu_state(trainer.opt_discriminator),
            "rng": {
                "sampler": sampler_rng.get_state().cpu(),
                "voxels": voxel_rng.get_state().cpu(),
            },
            "log": losses.state(),
        }
        if selecting and best is not None:
            payload["validation"] = {"history": history, "best": best.to_dict(), **best_state}
        save_archive(checkpoint_path, payload)
        losses.write(workdir, plot=False)  # the curve is drawn at the end (~1 s per plot)

    # every log_every iterations: "stage 1: N/M (p%), R it/s, ETA H:MM:SS: losses" (a bar on a TTY)
    progress = Progress(
        total, f"stage {stage}", every=config.log_every, initial=iteration, logger=log
    )
    if selecting and best is None:
        # the initial weights (stage 2: the stage-1 model) are a candidate too; so are those of
        # a checkpoint written without validation subjects
        score()
    with progress:
        while iteration < total:
            trainer.set_lr_factor(config.stage(stage).lr_factor(iteration))
            batch = sampler.sample() if sampler is not None else None
            voxels = voxel_sampler.sample() if voxel_sampler is not None else None
            losses.add(trainer.step(batch, voxels))
            iteration += 1
            if selecting and (iteration % config.selection.every == 0 or iteration == total):
                score()
            row = None
            if iteration % config.log_every == 0 or iteration == total:
                row = losses.flush(iteration)
            progress.update(1, detail=loss_summary(row) if row else "")
            scheduled = iteration % config.checkpoint_every == 0 or iteration == total
            stopping = stop is not None and stop.requested and iteration < total
            if scheduled or stopping:
                checkpoint()
            if stopping:
                raise TrainingInterrupted(checkpoint_path, iteration)
    losses.write(workdir)
    selection = None
    if selecting:
        generator.load_state_dict(best_state["generator"])
        discriminator.load_state_dict(best_state["discriminator"])
        pd.DataFrame(history).to_csv(workdir / "validation.tsv", sep="\t", index=False)
        selection = {
            "rule": (
                "highest validation intracranial PSNR among evaluations with lesion contrast "
                f">= {config.selection.min_contrast:g} (else the highest contrast)"
            ),
            "subjects": [subject.subject for subject in validation],
            **{f"validation_{k}": v for k, v in best.to_dict().items() if k != "iteration"},
            "iteration": best.iteration,
        }
        log.info("selected iteration %d on %s", best.iteration, ", ".join(selection["subjects"]))
    ran_on = describe_device(device)
    path = save_model(
        out,
        stage=stage,
        iterations=total,
        config=config,
        normalization=normalization,
        generator=generator,
        discriminator=discriminator,
        selection=selection,
        device=ran_on,
    )
    write_json(
        model_sidecar(path),
        {"stage": stage, "iterations": total, "device": ran_on, "torch": torch.__version__,
         "selection": selection or {}},
    )  # fmt: skip
    return path


def model_sidecar(model: str | os.PathLike) -> Path:
    """``MODEL.json`` beside ``MODEL.pt``: what ran (device, torch) and how weights were chosen.

    Readable without torch (the report reads it).
    """
    return Path(model).with_suffix(".json")
