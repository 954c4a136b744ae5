"""The model file ``model.pt``: what training writes and inference reads.

Training checkpoints share its archive format; their training-only reading
(the typed configuration) is :mod:`synflair.train.checkpoint`.

Both are ``torch.save`` archives of plain containers (dicts, lists, numbers,
strings, CPU tensors), written atomically (temporary file + rename) and read
with ``torch.load(weights_only=True)``, which never executes pickled code.

* **checkpoint** (``checkpoint.pt`` in the work directory): stage, iteration,
  configuration, input normalization, CPU state dicts of G and D and of both
  Adam optimizers, the patch sampler's RNG state and the loss log so far.
* **model** (``MODEL.pt``): stage, iterations, configuration, input channels,
  normalization, and the G and D weights; what inference and the next stage need.
  Optional: ``selection`` (how the weights were chosen), ``device`` (what
  trained) and ``trained_on`` (:class:`synflair.models.record.TrainingRecord`:
  the training subjects and their MDME protocol, which inference checks).

The stored ``config`` is the training configuration as a mapping
(:meth:`synflair.train.config.TrainConfig.to_dict`); this module reads from it
only the network's :class:`Architecture`, so that inference does not import
the training package.

A file that is missing, truncated, not a torch archive, of the wrong kind,
missing keys, holding Python objects other than those containers (refused
unread: unpickling them could run code), with weights that do not fit the
recorded architecture or that are not finite (NaN or inf: a diverged run)
gives a one-line :class:`~synflair.errors.SynflairError` naming it, and for
weights the first bad parameter tensor.
"""

from __future__ import annotations

import math
import os
import pickle
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from synflair.atomic import atomic_output
from synflair.errors import SynflairError
from synflair.models.discriminator import MultiResDiscriminator
from synflair.models.generator import PixelGenerator
from synflair.models.normalization import INPUT_KINDS, MDME_IMAGES, InputNormalization
from synflair.models.record import TrainingRecord

__all__ = [
    "CHECKPOINT_FORMAT",
    "MODEL_FORMAT",
    "VERSION",
    "Architecture",
    "ModelFile",
    "add_training_record",
    "build_discriminator",
    "build_generator",
    "cpu_state",
    "load_model",
    "load_weights",
    "read_archive",
    "save_archive",
    "save_model",
]

CHECKPOINT_FORMAT = "synflair-checkpoint"
MODEL_FORMAT = "synflair-model"
VERSION = 1
_CHECKPOINT_KEYS = (
    "stage",
    "iteration",
    "config",
    "in_channels",
    "normalization",
    "generator",
    "discriminator",
    "opt_generator",
    "opt_discriminator",
    "rng",
    "log",
)
_MODEL_KEYS = (
    "stage",
    "iterations",
    "config",
    "in_channels",
    "normalization",
    "generator",
    "discriminator",
)


@dataclass(frozen=True)
class Architecture:
    """The network's shape, read from the stored training configuration.

    Attributes
    ----------
    in_channels : int
        Generator input channels (``data.inputs``: 8 MDME images x 1 or 2; plus the
        synthetic FLAIR if ``relative``).
    hidden : int
        Generator hidden units per stream (``generator.hidden``).
    base_channels, levels : int
        Discriminator width and resolutions (``discriminator.*``).
    conditional : bool
        Whether the discriminator also sees the MDME inputs.
    relative : bool
        The generator's output is relative to its last input, the synthetic FLAIR
        (``data.relative``; absent from files of earlier versions: false).
    """

    in_channels: int
    hidden: int
    base_channels: int
    levels: int
    conditional: bool
    relative: bool = False

    @classmethod
    def of(cls, config: Any, name: str = "configuration") -> Architecture:
        """The architecture of a training configuration or of its stored mapping.

        ``config`` is a :class:`synflair.train.config.TrainConfig` (anything with
        ``to_dict()``) or the mapping a model file stores; errors name ``name``
        and the dotted key.
        """
        mapping = config.to_dict() if hasattr(config, "to_dict") else config

        def value(section: str, key: str, check, expected: str):
            part = mapping.get(section) if isinstance(mapping, Mapping) else None
            found = part.get(key) if isinstance(part, Mapping) else None
            if found is None or not check(found):
                raise SynflairError(f"{name}: {section}.{key} is {found!r}, expected {expected}")
            return found

        def count(v) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and v >= 1

        hidden = value("generator", "hidden", count, "a positive integer")
        inputs = value("data", "inputs", lambda v: v in INPUT_KINDS, f"one of {list(INPUT_KINDS)}")
        base = value("discriminator", "base_channels", count, "a positive integer")
        levels = value("discriminator", "levels", count, "a positive integer")
        flag = (lambda v: isinstance(v, bool), "true or false")
        conditional = value("discriminator", "conditional", *flag)
        data = mapping.get("data") if isinstance(mapping, Mapping) else None
        relative = value("data", "relative", *flag) if "relative" in (data or {}) else False
        channels = MDME_IMAGES * INPUT_KINDS[inputs] + int(relative)
        return cls(channels, hidden, base, levels, conditional, relative)


def build_generator(config: Any) -> PixelGenerator:
    """The generator a configuration describes (default-initialized; :meth:`Architecture.of`)."""
    arch = config if isinstance(config, Architecture) else Architecture.of(config)
    return PixelGenerator(arch.in_channels, arch.hidden, relative=arch.relative)


def build_discriminator(config: Any) -> MultiResDiscriminator:
    """The discriminator a configuration describes (default-initialized)."""
    arch = config if isinstance(config, Architecture) else Architecture.of(config)
    in_channels = 1 + (arch.in_channels if arch.conditional else 0)
    return MultiResDiscriminator(in_channels, arch.base_channels, arch.levels)


def cpu_state(module_or_optimizer) -> dict:
    """A state dict with every tensor copied to the CPU (checkpoints are device-free)."""

    def to_cpu(value):
        if isinstance(value, torch.Tensor):
            return value.detach().to("cpu", copy=True)
        if isinstance(value, dict):
            return {k: to_cpu(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(to_cpu(v) for v in value)
        return value

    return to_cpu(module_or_optimizer.state_dict())


def save_archive(path: str | os.PathLike, payload: dict) -> Path:
    """``torch.save`` ``payload`` to ``path`` atomically.

    Saved through an open file, so that the archive's folder is torch's fixed
    ``archive/`` and not the temporary file's name (host, pid and random letters):
    the same payload gives the same bytes on every run.
    """
    with atomic_output(path) as tmp, open(tmp, "wb") as handle:
        torch.save(payload, handle)
    return Path(path)


_WHAT = {CHECKPOINT_FORMAT: "training checkpoint", MODEL_FORMAT: "synflair model file"}
_KEYS = {CHECKPOINT_FORMAT: _CHECKPOINT_KEYS, MODEL_FORMAT: _MODEL_KEYS}


def _one_line(error: BaseException, limit: int = 200) -> str:
    """An exception's message on one line (torch's and pickle's messages span several)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _refused_pickle(path: Path, what: str, error: BaseException) -> SynflairError:
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
    names = f" ({found.group(1)})" if found else ""
    return SynflairError(
        f"{path}: not a {what}: it holds Python objects{names} besides tensors and plain "
        "containers; refused unread, since unpickling them could run code"
    )


def _check_tensors(path: Path, name: str, state: Any, *, flat: bool) -> None:
    """Raise unless ``state`` is a state dict whose tensors are all finite.

    ``flat``: a module state dict (names -> tensors); otherwise any nesting of
    containers (an optimizer state). The first non-finite tensor is named.
    """
    if not isinstance(state, Mapping):
        raise SynflairError(f"{path}: {name} is a {type(state).__name__}, expected a state dict")

    def walk(value: Any, where: str) -> None:
        if isinstance(value, torch.Tensor):
            if value.is_floating_point() or value.is_complex():
                bad = value.numel() - int(torch.isfinite(value).sum())
                if bad:
                    raise SynflairError(
                        f"{path}: {name} tensor {where!r} holds {bad} non-finite value(s) "
                        f"(NaN or inf) of {value.numel()}; the weights are broken (did "
                        "training diverge?)"
                    )
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")
        elif flat:
            raise SynflairError(
                f"{path}: {name} entry {where!r} is a {type(value).__name__}, expected a tensor"
            )
        elif isinstance(value, float) and not math.isfinite(value):
            raise SynflairError(f"{path}: {name} value {where!r} is {value!r}, expected finite")

    if flat:
        for key, value in state.items():
            if not isinstance(value, torch.Tensor):
                raise SynflairError(
                    f"{path}: {name} entry {key!r} is a {type(value).__name__}, expected a tensor"
                )
            walk(value, str(key))
    else:
        walk(state, "")


def _check_count(path: Path, what: str, key: str, value: Any, allowed=None) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if not ok or (allowed is not None and value not in allowed):
        expected = f"one of {allowed}" if allowed is not None else "a count >= 0"
        raise SynflairError(f"{path}: {what} field {key!r} is {value!r}, expected {expected}")


def load_weights(path: Path, module: torch.nn.Module, state: Any, name: str) -> torch.nn.Module:
    """Load ``state`` into ``module`` (strict); a mismatch raises naming ``path`` and ``name``."""
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError, KeyError, ValueError) as error:
        raise SynflairError(
            f"{path}: {name} weights do not fit the recorded architecture ({_one_line(error)})"
        ) from error
    return module


def _check_selection(path: Path, what: str, selection: Any) -> None:
    """The optional ``selection`` record: names -> str, finite-or-NaN numbers, lists of str."""
    if not isinstance(selection, dict):
        raise SynflairError(f"{path}: {what} field 'selection' is not a mapping")
    for key, value in selection.items():
        simple = isinstance(value, str | int | float) and not isinstance(value, bool)
        names = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not isinstance(key, str) or not (simple or names):
            raise SynflairError(
                f"{path}: {what} field 'selection' entry {key!r} is {value!r}; expected a "
                "string, a number or a list of strings"
            )


def _check_channels(path: Path, architecture, normalization, channels) -> None:
    """The stored channel count, architecture and normalization must agree."""
    if channels != architecture.in_channels or channels != normalization.in_channels:
        raise SynflairError(f"{path}: inconsistent input channels ({channels!r})")
    if architecture.relative != normalization.relative:
        raise SynflairError(
            f"{path}: data.relative ({architecture.relative}) and the normalization record "
            f"({normalization.relative}) disagree"
        )


def read_archive(path: str | os.PathLike, kinds: tuple[str, ...]) -> dict:
    """Read and check a model file or checkpoint of one of ``kinds`` (see the module docstring).

    ``normalization`` and ``trained_on`` come back typed; ``config`` stays the
    stored mapping (its architecture checked against the weights).
    """
    path = Path(path)
    what = " or ".join(_WHAT[k] for k in kinds)
    if path.is_dir():
        raise SynflairError(f"{path}: is a folder (expected a {what})")
    if not path.is_file():
        raise SynflairError(f"{path}: no such file (expected a {what})")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError as error:
        raise SynflairError(f"{path}: not readable ({error.strerror})") from error
    except pickle.UnpicklingError as error:
        text = str(error)
        if "Unsupported global" in text or "Unsupported class" in text:
            raise _refused_pickle(path, what, error) from error
        reason = re.search(r"WeightsUnpickler error:(.*?)(Check the documentation|$)", text, re.S)
        raise SynflairError(
            f"{path}: not a readable {what}; the file is corrupted, truncated or not a "
            "torch archive "
            f"({_one_line(reason.group(1) if reason else text)})"
        ) from error
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError,
            AttributeError, TypeError, IndexError, UnicodeDecodeError) as error:  # fmt: skip
        raise SynflairError(
            f"{path}: not a readable {what}; the file is corrupted, truncated or not a "
            "torch archive "
            f"({_one_line(error)})"
        ) from error
    if not isinstance(payload, dict) or payload.get("format") not in kinds:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise SynflairError(f"{path}: not a {what} (format {found!r}, expected {kinds})")
    what = _WHAT[payload["format"]]
    if payload.get("version") != VERSION:
        raise SynflairError(
            f"{path}: {what} version {payload.get('version')!r}; this synflair reads {VERSION}"
        )
    missing = [k for k in _KEYS[payload["format"]] if k not in payload]
    if missing:
        raise SynflairError(f"{path}: {what} lacks {missing}; the file is incomplete")
    _check_count(path, what, "stage", payload["stage"], (1, 2))
    count = "iterations" if payload["format"] == MODEL_FORMAT else "iteration"
    _check_count(path, what, count, payload[count])
    if not isinstance(payload["config"], dict):
        raise SynflairError(
            f"{path}: {what} field 'config' is a {type(payload['config']).__name__}, "
            "expected a mapping"
        )
    architecture = Architecture.of(payload["config"], f"{path}: invalid stored configuration")
    if not isinstance(payload["normalization"], dict):
        raise SynflairError(f"{path}: {what} field 'normalization' is not a mapping")
    payload["normalization"] = InputNormalization.from_dict(
        payload["normalization"], name=f"{path}: normalization"
    )
    _check_channels(path, architecture, payload["normalization"], payload["in_channels"])
    for name in ("generator", "discriminator"):
        _check_tensors(path, name, payload[name], flat=True)
    load_weights(path, build_generator(architecture), payload["generator"], "generator")
    load_weights(path, build_discriminator(architecture), payload["discriminator"], "discriminator")
    _check_selection(path, what, payload.get("selection", {}))
    if not isinstance(payload.get("device", ""), str):
        raise SynflairError(f"{path}: {what} field 'device' is not a string")
    if payload.get("trained_on") is not None:
        payload["trained_on"] = TrainingRecord.from_dict(
            payload["trained_on"], name=f"{path}: {what} field 'trained_on'"
        )
    if payload["format"] == CHECKPOINT_FORMAT:
        for name in ("opt_generator", "opt_discriminator"):
            _check_tensors(path, name, payload[name], flat=False)
    return payload


@dataclass(frozen=True)
class ModelFile:
    """A trained model as read from ``MODEL.pt``.

    Attributes
    ----------
    path : pathlib.Path
    stage : int
        1 (MAE) or 2 (cGAN).
    iterations : int
        Iterations trained in that stage.
    config : dict
        The training configuration as stored
        (:meth:`synflair.train.config.TrainConfig.to_dict`).
    normalization : InputNormalization
    generator_state, discriminator_state : dict
        CPU state dicts.
    selection : dict
        How the weights were chosen (:mod:`synflair.train.validation`): ``rule``,
        ``subjects`` (the validation subjects), ``iteration`` and the scores of the
        selected evaluation; empty when no selection was made (the last weights).
    device : str
        What the training ran on, in words (empty for files written before it was
        recorded).
    trained_on : TrainingRecord or None
        The training subjects and their MDME protocol(s); None for files written
        before it was recorded (inference then warns that it cannot check the
        exam's protocol).
    """

    path: Path
    stage: int
    iterations: int
    config: dict
    normalization: InputNormalization
    generator_state: dict
    discriminator_state: dict
    selection: dict = field(default_factory=dict)
    device: str = ""
    trained_on: TrainingRecord | None = None

    @property
    def in_channels(self) -> int:
        return self.normalization.in_channels

    @property
    def architecture(self) -> Architecture:
        """The network's shape (checked against the weights when the file was read)."""
        return Architecture.of(self.config, str(self.path))

    def _load(self, module: torch.nn.Module, state: dict, name: str) -> torch.nn.Module:
        return load_weights(self.path, module, state, name).eval()

    def generator(self) -> PixelGenerator:
        """The trained generator (CPU, eval mode)."""
        return self._load(build_generator(self.architecture), self.generator_state, "generator")

    def discriminator(self) -> MultiResDiscriminator:
        """The trained discriminator (CPU, eval mode)."""
        return self._load(
            build_discriminator(self.architecture), self.discriminator_state, "discriminator"
        )

    def check_inputs(self, in_channels: int, inputs: str, name: str = "the configuration") -> None:
        """Raise unless the model was trained with this input representation."""
        if in_channels != self.in_channels or inputs != self.normalization.inputs:
            raise SynflairError(
                f"{self.path}: trained with {self.in_channels} input channels "
                f"({self.normalization.inputs!r}), but {name} has {in_channels} "
                f"({inputs!r})"
            )

    def summary(self) -> dict:
        """What the model is, as JSON-ready data (the report and the run's logs show it)."""
        return {
            "path": str(self.path),
            "stage": self.stage,
            "iterations": self.iterations,
            "inputs": self.normalization.inputs,
            "normalization": self.normalization.to_dict(),
            "device": self.device,
            "selection": dict(self.selection),
            "trained_on": self.trained_on.to_dict() if self.trained_on else None,
        }


def save_model(
    path: str | os.PathLike,
    *,
    stage: int,
    iterations: int,
    config: Any,
    normalization: InputNormalization,
    generator: torch.nn.Module,
    discriminator: torch.nn.Module,
    selection: dict | None = None,
    device: str | None = None,
    trained_on: TrainingRecord | None = None,
) -> Path:
    """Write ``MODEL.pt`` atomically (CPU weights and everything inference needs).

    ``config`` is the :class:`synflair.train.config.TrainConfig` (stored as its
    ``to_dict()``). ``selection`` (optional) records how the weights were chosen:
    a flat mapping of names to strings, numbers or lists of strings (see
    :class:`ModelFile`). ``device`` (optional) says in words what the training
    ran on; ``trained_on`` what it was trained on.
    """
    payload: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "version": VERSION,
        "stage": int(stage),
        "iterations": int(iterations),
        "config": config.to_dict(),
        "in_channels": normalization.in_channels,
        "normalization": normalization.to_dict(),
        "generator": cpu_state(generator),
        "discriminator": cpu_state(discriminator),
    }
    if selection:
        payload["selection"] = dict(selection)
    if device:
        payload["device"] = str(device)
    if trained_on is not None:
        payload["trained_on"] = trained_on.to_dict()
    return save_archive(path, payload)


def add_training_record(path: str | os.PathLike, trained_on: TrainingRecord) -> Path:
    """Record in the model file ``path`` what it was trained on (rewritten atomically)."""
    payload = read_archive(path, (MODEL_FORMAT,))
    payload["normalization"] = payload["normalization"].to_dict()
    payload["trained_on"] = trained_on.to_dict()
    return save_archive(path, payload)


def load_model(path: str | os.PathLike, *, allow_checkpoint: bool = False) -> ModelFile:
    """Read ``MODEL.pt`` (or, if allowed, the model inside a training checkpoint).

    The weights are checked against the stored architecture and for
    non-finite values (see the module docstring).
    """
    kinds = (MODEL_FORMAT, CHECKPOINT_FORMAT) if allow_checkpoint else (MODEL_FORMAT,)
    payload = read_archive(path, kinds)
    iterations = payload["iterations" if payload["format"] == MODEL_FORMAT else "iteration"]
    return ModelFile(
        Path(path),
        int(payload["stage"]),
        int(iterations),
        payload["config"],
        payload["normalization"],
        payload["generator"],
        payload["discriminator"],
        payload.get("selection", {}),
        str(payload.get("device", "")),
        payload.get("trained_on"),
    )
