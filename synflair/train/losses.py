"""The training losses: MAE for stage 1, per-pixel multi-resolution BCE for the GAN.

The paper (Hagiwara et al., AJNR 2019) defines the classification loss as the
cross-entropy of the discriminator's logistic-sigmoid output, "averaged along
both batches and pixels"; its discriminator classifies at several resolutions,
so the average is also taken over resolutions. With logits ``y`` and
``softplus(t) = log(1 + e^t)``:

* discriminator: ``L_D = mean_r [ mean softplus(-y_real) + mean softplus(y_fake) ]``
  (cross-entropy with label 1 for conventional FLAIR, 0 for generated);
* generator, ``minimax`` (the paper: "the generator received the negative of
  the classification loss for its generated images"):
  ``L_G = -mean_r mean softplus(y_fake)``;
* generator, ``non_saturating`` (Goodfellow et al. 2014, the usual practice):
  ``L_G = mean_r mean softplus(-y_fake)``.

``softplus(-y) = -log sigmoid(y)`` and ``softplus(y) = -log(1 - sigmoid(y))``,
computed stably from logits.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["discriminator_loss", "generator_loss", "mean_absolute_error", "paired_loss"]


def mean_absolute_error(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean of ``|prediction - target|`` over all elements (stage 1)."""
    if prediction.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(prediction.shape)} vs {tuple(target.shape)}")
    return (prediction.float() - target.float()).abs().mean()


def paired_loss(
    prediction: torch.Tensor,
    target: torch.Tensor,
    quantile: torch.Tensor | float = 0.5,
) -> torch.Tensor:
    """Pinball (quantile) loss ``mean 2 max(tau r, (tau - 1) r)`` with ``r = target - prediction``.

    With ``tau = 0.5`` everywhere it is the mean absolute error. A voxel with
    ``tau > 0.5`` costs more when the prediction is below the target than above
    it, so over voxels of similar inputs the minimizer is the ``tau``-quantile
    of their targets instead of the median: rare bright voxels (lesions) among
    common dark ones with similar signals pull the prediction up instead of
    being averaged away (Koenker & Bassett 1978).

    Parameters
    ----------
    prediction, target : torch.Tensor
        Same shape.
    quantile : torch.Tensor or float
        ``tau`` in (0, 1), a scalar or one per element.

    Returns
    -------
    torch.Tensor
        Scalar.
    """
    if prediction.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(prediction.shape)} vs {tuple(target.shape)}")
    tau = torch.as_tensor(quantile, dtype=torch.float32, device=prediction.device)
    if bool(((tau <= 0) | (tau >= 1)).any()):
        raise ValueError("quantile must be in (0, 1)")
    residual = target.float() - prediction.float()
    return (2 * torch.maximum(tau * residual, (tau - 1) * residual)).mean()


def _check(logits: Sequence[torch.Tensor], name: str) -> None:
    if len(logits) == 0:
        raise ValueError(f"{name} must hold the logits of at least one resolution")


def discriminator_loss(
    real_logits: Sequence[torch.Tensor], fake_logits: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Per-pixel binary cross-entropy, averaged over batch, pixels and resolutions.

    Parameters
    ----------
    real_logits, fake_logits : sequence of torch.Tensor
        One ``(N, 1, H_r, W_r)`` logit map per resolution ``r`` for conventional
        (label 1) and generated (label 0) FLAIR patches.

    Returns
    -------
    torch.Tensor
        Scalar ``mean_r [mean softplus(-real_r) + mean softplus(fake_r)]``.
    """
    _check(real_logits, "real_logits")
    if len(real_logits) != len(fake_logits):
        raise ValueError(
            f"real and fake logits have {len(real_logits)} and {len(fake_logits)} resolutions"
        )
    terms = [
        F.softplus(-real.float()).mean() + F.softplus(fake.float()).mean()
        for real, fake in zip(real_logits, fake_logits, strict=True)
    ]
    return torch.stack(terms).mean()


def generator_loss(fake_logits: Sequence[torch.Tensor], kind: str = "minimax") -> torch.Tensor:
    """Adversarial loss of the generator from the discriminator's logits on its images.

    Parameters
    ----------
    fake_logits : sequence of torch.Tensor
        One logit map per resolution for generated patches.
    kind : {"minimax", "non_saturating"}
        ``minimax``: the negative of the discriminator's loss on generated
        images, ``-mean softplus(y)``; ``non_saturating``: ``mean softplus(-y)``.

    Returns
    -------
    torch.Tensor
        Scalar, averaged over batch, pixels and resolutions.
    """
    _check(fake_logits, "fake_logits")
    if kind == "minimax":
        terms = [-F.softplus(fake.float()).mean() for fake in fake_logits]
    elif kind == "non_saturating":
        terms = [F.softplus(-fake.float()).mean() for fake in fake_logits]
    else:
        raise ValueError(f"kind must be 'minimax' or 'non_saturating', not {kind!r}")
    return torch.stack(terms).mean()
