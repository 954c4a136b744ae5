"""Training checkpoints: the resumable state of a stage, read with its typed configuration.

``checkpoint.pt`` (in the work directory) holds the stage, iteration,
configuration, input normalization, CPU state dicts of G and D and of both
Adam optimizers, the patch sampler's RNG state and the loss log so far. It is
an archive of the model file's format (:mod:`synflair.models.modelfile`: the
same safe reading and the same checks of every tensor); this module adds what
only training needs: the configuration as a
:class:`~synflair.train.config.TrainConfig`.
"""

from __future__ import annotations

import os

from synflair.errors import SynflairError
from synflair.models.modelfile import CHECKPOINT_FORMAT, ModelFile, read_archive
from synflair.train.config import TrainConfig, config_from_dict

__all__ = ["load_checkpoint", "training_config"]


def _typed(config: dict, path) -> TrainConfig:
    try:
        return config_from_dict(config)
    except (ValueError, TypeError, AttributeError) as error:
        text = " ".join(str(error).split())
        raise SynflairError(f"{path}: invalid stored configuration ({text})") from error


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read and check a training checkpoint; ``config`` and ``normalization`` come back typed."""
    payload = read_archive(path, (CHECKPOINT_FORMAT,))
    payload["config"] = _typed(payload["config"], path)
    return payload


def training_config(model: ModelFile) -> TrainConfig:
    """The training configuration a model file stores, typed (for ``--init``)."""
    return _typed(model.config, model.path)
