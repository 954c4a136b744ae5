"""Training configuration: frozen typed dataclasses read from YAML, validated key by key.

The presets live in ``config/train/``: ``paper.yaml`` (the paper's values),
``demo.yaml`` (the phantom demo, minutes on a laptop) and ``ci.yaml`` (seconds).
An unknown key, a missing section or a value of the wrong type is an error
that names the dotted key (e.g. ``stage2.generator.lr``) and the file.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synflair.errors import SynflairError
from synflair.models.normalization import INPUT_KINDS, INPUT_REGIONS, MDME_IMAGES

__all__ = [
    "DEFAULT_VALIDATION_FRACTION",
    "DataConfig",
    "DiscriminatorConfig",
    "GeneratorConfig",
    "ObjectiveConfig",
    "OptimizerConfig",
    "SelectionConfig",
    "StageConfig",
    "TrainConfig",
    "config_from_dict",
    "load_config",
]

GAN_LOSSES = ("minimax", "non_saturating")
#: ``training.validation_fraction`` of the workflow config when absent: no validation subjects.
DEFAULT_VALIDATION_FRACTION = 0.0


def _require(condition: bool, key: str, expected: str, value: Any) -> None:
    if not condition:
        raise ValueError(f"{key} must be {expected}, not {value!r}")


@dataclass(frozen=True)
class DataConfig:
    """Patches and normalization.

    Attributes
    ----------
    inputs : str
        ``magnitude`` (8 MDME magnitudes, the paper), ``real`` (8 phase-corrected
        signed real parts) or ``real_imag`` (16 volumes: 8 real, then 8 imaginary).
    patch_size : int
        Side of the square training patches, pixels (paper: 128).
    batch_size : int
        Patches per batch (paper: 15).
    input_percentile : float
        Inputs are divided per subject by this percentile of ``|S|`` over all
        channels and the voxels of ``input_region``.
    input_region : str
        ``intracranial`` (inside the intracranial mask; inference then needs
        the mask) or ``volume`` (all voxels; inference needs no mask).
    target_divisor : float
        FLAIR targets on the common scale (intracranial mean 2000) are divided
        by this for training; the generator's output is multiplied back.
    relative : bool
        The generator's output is the synthetic FLAIR times a learned factor,
        and the synthetic FLAIR is one more input (paper: false). A pixel-wise
        regression cannot reach FLAIR values brighter than those it was trained
        on; relative to the synthetic FLAIR, whose lesions follow the physics,
        the factor carries to lesions brighter than the training subjects'.
        Training then needs the manifest's ``synthetic`` column and inference
        the synthetic FLAIR (``synflair infer --synthetic``).
    """

    inputs: str = "magnitude"
    patch_size: int = 128
    batch_size: int = 15
    input_percentile: float = 99.0
    input_region: str = "intracranial"
    target_divisor: float = 1000.0
    relative: bool = False

    def __post_init__(self) -> None:
        _require(
            self.input_region in INPUT_REGIONS,
            "data.input_region",
            f"one of {list(INPUT_REGIONS)}",
            self.input_region,
        )
        _require(
            self.inputs in INPUT_KINDS, "data.inputs", f"one of {list(INPUT_KINDS)}", self.inputs
        )
        _require(self.patch_size >= 4, "data.patch_size", "an integer >= 4", self.patch_size)
        _require(self.batch_size >= 2, "data.batch_size", "an integer >= 2", self.batch_size)
        _require(
            0 < self.input_percentile <= 100,
            "data.input_percentile",
            "in (0, 100]",
            self.input_percentile,
        )
        _require(self.target_divisor > 0, "data.target_divisor", "> 0", self.target_divisor)
        _require(isinstance(self.relative, bool), "data.relative", "true or false", self.relative)

    @property
    def in_channels(self) -> int:
        """Generator input channels implied by :attr:`inputs` and :attr:`relative`."""
        return MDME_IMAGES * INPUT_KINDS[self.inputs] + int(self.relative)


@dataclass(frozen=True)
class GeneratorConfig:
    """:class:`synflair.models.PixelGenerator` settings."""

    hidden: int = 128

    def __post_init__(self) -> None:
        _require(self.hidden >= 1, "generator.hidden", "a positive integer", self.hidden)


@dataclass(frozen=True)
class DiscriminatorConfig:
    """:class:`synflair.models.MultiResDiscriminator` settings.

    Not given by the paper. 16 channels and 4 levels cost 70 GFLOP per
    iteration at 15 x 128 x 128 (forward and backward, both stages; 32 channels:
    272 GFLOP): 14 PFLOP for the paper's 2 x 100,000 iterations, aiming at the
    issue's goal of <= 15 minutes on one H100 (not measured here: no GPU).
    """

    base_channels: int = 16
    levels: int = 4
    conditional: bool = False

    def __post_init__(self) -> None:
        _require(
            self.base_channels >= 1,
            "discriminator.base_channels",
            "a positive integer",
            self.base_channels,
        )
        _require(self.levels >= 1, "discriminator.levels", "a positive integer", self.levels)


@dataclass(frozen=True)
class OptimizerConfig:
    """Adam (Kingma & Ba 2015): step size ``lr`` (the paper's alpha) and ``beta1``, ``beta2``."""

    lr: float
    beta1: float = 0.9
    beta2: float = 0.999

    def __post_init__(self) -> None:
        _require(self.lr > 0, "lr", "> 0", self.lr)
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            _require(0 <= value < 1, name, "in [0, 1)", value)


@dataclass(frozen=True)
class StageConfig:
    """One training stage: iterations, the two optimizers and the step-size schedule.

    Attributes
    ----------
    lr_final : float
        Both step sizes decay exponentially from ``lr`` at the first iteration to
        ``lr * lr_final`` at the last (1: constant, the paper).
    """

    iterations: int
    generator: OptimizerConfig
    discriminator: OptimizerConfig
    lr_final: float = 1.0

    def __post_init__(self) -> None:
        _require(self.iterations >= 1, "iterations", "a positive integer", self.iterations)
        _require(0 < self.lr_final <= 1, "lr_final", "in (0, 1]", self.lr_final)

    def lr_factor(self, iteration: int) -> float:
        """Step-size multiplier at ``iteration`` (0-based): ``lr_final ** (i / (n - 1))``."""
        if self.iterations == 1 or self.lr_final == 1:
            return 1.0
        return self.lr_final ** (min(iteration, self.iterations - 1) / (self.iterations - 1))


#: Loss of the paired term.
PAIRED_LOSSES = ("l1", "pinball")


@dataclass(frozen=True)
class ObjectiveConfig:
    """What the generator minimizes (the paper: MAE in stage 1, the GAN term in stage 2).

    Attributes
    ----------
    voxels : int
        Voxels per batch for the pixel-wise terms (stage-1 MAE, stage-2 paired term),
        drawn from all intracranial training voxels (:class:`synflair.train.data.VoxelSampler`);
        0: those terms use the patches' pixels (the paper).
    adversarial : float
        Stage-2 weight of the adversarial term (the paper: 1). 0: no discriminator
        in either stage (not trained, not pretrained).
    paired : float
        Stage-2 weight of the paired term against the registered conventional FLAIR
        (the alternative the paper's Discussion names; the paper: 0).
    paired_loss : str
        ``l1`` (mean absolute error) or ``pinball`` (quantile loss, see below).
    hyper_threshold : float
        Voxels whose stage-1 target (CSF-suppressed synthetic FLAIR) exceeds this
        multiple of its subject's intracranial median are "hyperintense" (label-free;
        0: none are).
    hyper_quantile : float
        ``pinball``: the quantile of the conventional FLAIR fitted in hyperintense
        voxels (0.5 elsewhere, i.e. L1), so that rare bright tissue whose signals
        resemble common dark tissue is not averaged away.
    """

    voxels: int = 0
    adversarial: float = 1.0
    paired: float = 0.0
    paired_loss: str = "l1"
    hyper_threshold: float = 0.0
    hyper_quantile: float = 0.5
    lesion_share: float = 0.0

    def __post_init__(self) -> None:
        _require(self.voxels >= 0, "objective.voxels", "an integer >= 0", self.voxels)
        for name in ("adversarial", "paired"):
            value = getattr(self, name)
            _require(value >= 0 and math.isfinite(value), f"objective.{name}", ">= 0", value)
        _require(
            self.adversarial > 0 or self.paired > 0,
            "objective.adversarial or objective.paired",
            "> 0 (stage 2 needs a term to minimize)",
            (self.adversarial, self.paired),
        )
        _require(
            self.paired_loss in PAIRED_LOSSES,
            "objective.paired_loss",
            f"one of {list(PAIRED_LOSSES)}",
            self.paired_loss,
        )
        _require(
            self.hyper_threshold >= 0 and math.isfinite(self.hyper_threshold),
            "objective.hyper_threshold",
            ">= 0",
            self.hyper_threshold,
        )
        _require(
            0 < self.hyper_quantile < 1,
            "objective.hyper_quantile",
            "in (0, 1)",
            self.hyper_quantile,
        )
        _require(
            0 <= self.lesion_share < 1 and (self.lesion_share == 0 or self.voxels > 0),
            "objective.lesion_share",
            "in [0, 1), and 0 unless objective.voxels > 0 (a share of the voxel batches)",
            self.lesion_share,
        )
        _require(
            self.hyper_threshold == 0 or self.voxels > 0,
            "objective.hyper_threshold",
            "0 unless objective.voxels > 0 (hyperintensity is measured on voxel batches)",
            self.hyper_threshold,
        )

    @property
    def uses_discriminator(self) -> bool:
        """Whether the discriminator is trained (stage 2) and pretrained (stage 1)."""
        return self.adversarial > 0


@dataclass(frozen=True)
class SelectionConfig:
    """Model selection of stage 2 on the validation subjects (:mod:`synflair.train.validation`).

    Attributes
    ----------
    every : int
        Iterations between validation scores; the weights kept are those of the best
        score (0: no selection, the last weights).
    min_contrast : float
        Lesion-contrast floor (lesion/NAWM ratio relative to the conventional
        FLAIR's) of the selection rule.
    """

    every: int = 0
    min_contrast: float = 0.85

    def __post_init__(self) -> None:
        _require(self.every >= 0, "selection.every", "an integer >= 0", self.every)
        _require(
            0 <= self.min_contrast and math.isfinite(self.min_contrast),
            "selection.min_contrast",
            ">= 0",
            self.min_contrast,
        )


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (both stages).

    Attributes
    ----------
    seed : int
        Seeds weight initialization and patch sampling (per stage).
    gan_loss : str
        ``minimax`` (the paper: G minimizes the negative of D's loss on its
        images) or ``non_saturating`` (G maximizes log D(G(x))).
    checkpoint_every : int
        Iterations between resumable checkpoints.
    log_every : int
        Iterations averaged into one row of ``losses.tsv``; divides
        ``checkpoint_every``.
    amp : bool
        bf16 autocast on CUDA (ignored on CPU).
    objective : ObjectiveConfig
        The terms each stage minimizes (defaults: the paper's).
    selection : SelectionConfig
        Model selection on validation subjects (default: none).
    """

    seed: int = 2019
    data: DataConfig = field(default_factory=DataConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    stage1: StageConfig = field(
        default_factory=lambda: StageConfig(
            100_000, OptimizerConfig(5e-4, 0.9, 0.999), OptimizerConfig(1e-6, 0.9, 0.999)
        )
    )
    stage2: StageConfig = field(
        default_factory=lambda: StageConfig(
            100_000, OptimizerConfig(1e-5, 0.5, 0.999), OptimizerConfig(1e-6, 0.9, 0.999)
        )
    )
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    gan_loss: str = "minimax"
    checkpoint_every: int = 1000
    log_every: int = 100
    amp: bool = True

    def __post_init__(self) -> None:
        _require(
            self.gan_loss in GAN_LOSSES, "gan_loss", f"one of {list(GAN_LOSSES)}", self.gan_loss
        )
        _require(self.log_every >= 1, "log_every", "a positive integer", self.log_every)
        _require(
            self.checkpoint_every >= 1 and self.checkpoint_every % self.log_every == 0,
            "checkpoint_every",
            f"a positive multiple of log_every ({self.log_every})",
            self.checkpoint_every,
        )
        divisor = 2 ** (self.discriminator.levels - 1)
        _require(
            self.data.patch_size % divisor == 0,
            "data.patch_size",
            f"divisible by 2**(discriminator.levels - 1) = {divisor}",
            self.data.patch_size,
        )

    def stage(self, stage: int) -> StageConfig:
        """The settings of stage 1 or 2."""
        if stage not in (1, 2):
            raise ValueError(f"stage must be 1 or 2, not {stage!r}")
        return self.stage1 if stage == 1 else self.stage2

    def to_dict(self) -> dict:
        """Plain nested dict for YAML and checkpoints; inverse of :func:`config_from_dict`."""
        return dataclasses.asdict(self)


def _convert(tp: Any, value: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp`` (recursing into dataclasses)."""
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, not {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key} must be an integer, not {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key} must be a number, not {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a string, not {value!r}")
        return value
    raise TypeError(f"unsupported config annotation {tp!r} for {key}")  # pragma: no cover


def _build(cls: type, mapping: Any, prefix: str) -> Any:
    where = prefix or "the top level"
    if not isinstance(mapping, dict):
        raise ValueError(f"{where} must be a mapping of keys to values, not {mapping!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(mapping) - set(names))
    if unknown:
        dotted = ", ".join(f"{prefix}.{k}" if prefix else str(k) for k in unknown)
        raise ValueError(f"unknown key(s) {dotted}; expected keys of {where}: {names}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        if f.name not in mapping:
            has_default = not isinstance(f.default, dataclasses._MISSING_TYPE) or not isinstance(
                f.default_factory, dataclasses._MISSING_TYPE
            )
            if not has_default:
                raise ValueError(f"{key} is required")
            continue
        tp = hints[f.name]
        if isinstance(tp, types.UnionType):  # pragma: no cover - no optional fields yet
            raise TypeError(f"unsupported config annotation {tp!r} for {key}")
        kwargs[f.name] = _convert(tp, mapping[f.name], key)
    try:
        return cls(**kwargs)
    except ValueError as error:
        message = str(error)
        # messages of nested dataclasses name the field relative to them
        if prefix and not message.startswith(prefix):
            message = f"{prefix}.{message}"
        raise ValueError(message) from error


def config_from_dict(mapping: dict) -> TrainConfig:
    """Build and validate a :class:`TrainConfig` from a nested dict (missing keys: defaults)."""
    return _build(TrainConfig, mapping, "")


def load_config(path: str | os.PathLike) -> TrainConfig:
    """Read a training preset YAML; errors name the file and the dotted key.

    Raises
    ------
    SynflairError
        If the file is missing, is not YAML, or holds an invalid configuration.
    """
    path = Path(path)
    if not path.is_file():
        raise SynflairError(f"{path}: no such file (expected a training configuration YAML)")
    try:
        mapping = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise SynflairError(f"{path}: not valid YAML ({error})") from error
    try:
        return config_from_dict({} if mapping is None else mapping)
    except ValueError as error:
        raise SynflairError(f"{path}: {error}") from error
