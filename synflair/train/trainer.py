"""The paper's training algorithm: one iteration of stage 1 and of stage 2.

Hagiwara et al. (AJNR 2019), "DL Framework":

* **Stage 1.** The generator produces coarse FLAIR images and is updated to
  minimize the mean absolute error against the CSF-suppressed synthetic FLAIR
  (Adam, alpha 5e-4, beta1 0.9). "Simultaneously, for efficiency", the
  discriminator used in stage 2 is pretrained on generated versus conventional
  FLAIR patches (Adam, alpha 1e-6).
* **Stage 2.** From the stage-1 weights, a cGAN: the discriminator minimizes
  its per-pixel, multi-resolution classification loss on conventional (real)
  versus generated (fake) patches (Adam, alpha 1e-6); the generator "received
  the negative of the classification loss for its generated images" (Adam,
  alpha 1e-5, beta1 0.5).

Implementation choices (documented, configurable where it matters):

* The discriminator sees real and generated patches **in one batch**, so its
  batch normalization uses the statistics of both; with separate batches, BN
  would normalize away a global intensity difference between real and fake.
* In stage 2 both networks are updated **simultaneously** from that one
  forward pass, as Chainer's GAN updaters (the paper's framework) do. With the
  minimax loss the generator's gradient is literally the negative of the
  gradient of D's loss with respect to G's weights (only D's loss on generated
  images depends on them), so one backward pass serves both networks. The
  non-saturating option takes a second backward pass.
* On CUDA, forward passes run under bf16 autocast (``amp``); losses are
  evaluated in float32.

Beyond the paper (``objective``, :class:`~synflair.train.config.ObjectiveConfig`;
the defaults are the paper's):

* **voxel batches** (``objective.voxels``): the pixel-wise terms (stage-1 MAE,
  stage-2 paired term) are evaluated on voxels drawn from all intracranial
  training voxels instead of on the patches;
* **a paired term** in stage 2 (``objective.paired``): L1 or pinball loss against
  the registered conventional FLAIR, added to ``objective.adversarial`` times
  the GAN term; with ``adversarial: 0`` the discriminator is neither
  pretrained nor trained;
* **step-size decay** (``stage.lr_final``), applied by :meth:`Trainer.set_lr_factor`.
"""

from __future__ import annotations

import torch
from torch import nn

from synflair.train.config import OptimizerConfig, TrainConfig
from synflair.train.data import Batch, VoxelBatch
from synflair.train.losses import (
    discriminator_loss,
    generator_loss,
    mean_absolute_error,
    paired_loss,
)

__all__ = ["Trainer", "adam"]


def adam(parameters, settings: OptimizerConfig) -> torch.optim.Adam:
    """Adam with the step size (the paper's alpha) and betas of ``settings``."""
    return torch.optim.Adam(parameters, lr=settings.lr, betas=(settings.beta1, settings.beta2))


class Trainer:
    """One stage of training: the networks, their Adam optimizers and one iteration.

    Parameters
    ----------
    config : TrainConfig
    stage : int
        1 or 2.
    generator, discriminator : torch.nn.Module
        Already on ``device``.
    device : torch.device
    """

    def __init__(
        self,
        config: TrainConfig,
        stage: int,
        generator: nn.Module,
        discriminator: nn.Module,
        device: torch.device,
    ) -> None:
        settings = config.stage(stage)
        self.config = config
        self.stage = stage
        self.generator = generator.train()
        self.discriminator = discriminator.train()
        self.device = torch.device(device)
        self.opt_generator = adam(generator.parameters(), settings.generator)
        self.opt_discriminator = adam(discriminator.parameters(), settings.discriminator)
        self.amp = bool(config.amp) and self.device.type == "cuda"
        self.conditional = config.discriminator.conditional
        self.objective = config.objective
        self.base_lr = {
            "generator": settings.generator.lr,
            "discriminator": settings.discriminator.lr,
        }

    @property
    def is_paper_stage2(self) -> bool:
        """Stage 2 is the paper's (the GAN term alone, weight 1, on patches)."""
        return self.objective.paired == 0 and self.objective.adversarial == 1

    def set_lr_factor(self, factor: float) -> None:
        """Set both optimizers' step sizes to ``factor`` times the stage's ``lr``."""
        for name, optimizer in (
            ("generator", self.opt_generator),
            ("discriminator", self.opt_discriminator),
        ):
            for group in optimizer.param_groups:
                group["lr"] = self.base_lr[name] * factor

    def autocast(self):
        """bf16 autocast on CUDA when ``amp`` is set; a no-op otherwise."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    def step(
        self, batch: Batch | None, voxels: VoxelBatch | None = None
    ) -> dict[str, torch.Tensor]:
        """One iteration of the configured stage; returns the scalars to log.

        Parameters
        ----------
        batch : Batch or None
            Patches (needed by the discriminator and by pixel-wise terms without
            ``objective.voxels``).
        voxels : VoxelBatch or None
            Voxels for the pixel-wise terms (``objective.voxels > 0``).
        """
        if self.stage == 1:
            return self.stage1_step(batch, voxels)
        if self.is_paper_stage2 and voxels is None:
            return self.stage2_step(batch)
        return self.stage2_mixed_step(batch, voxels)

    def quantiles(self, hyper: torch.Tensor) -> torch.Tensor | float:
        """Per-voxel quantile of the paired term: ``hyper_quantile`` where hyperintense."""
        objective = self.objective
        if objective.paired_loss == "l1" or objective.hyper_threshold <= 0:
            return 0.5
        return torch.where(hyper > objective.hyper_threshold, objective.hyper_quantile, 0.5)

    def discriminate(
        self, real: torch.Tensor, fake: torch.Tensor, inputs: torch.Tensor
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """D's per-pixel logits on real and generated FLAIR, from one shared batch.

        Returns
        -------
        real_logits, fake_logits : list of torch.Tensor
            One ``(N, 1, H_r, W_r)`` map per resolution, finest first.
        """
        images = torch.cat([real, fake.to(real.dtype)])
        if self.conditional:
            images = torch.cat([images, torch.cat([inputs, inputs])], dim=1)
        logits = self.discriminator(images)
        n = real.shape[0]
        return [y[:n] for y in logits], [y[n:] for y in logits]

    def stage1_step(
        self, batch: Batch | None, voxels: VoxelBatch | None = None
    ) -> dict[str, torch.Tensor]:
        """Stage 1: G by MAE against the CSF-suppressed synthetic FLAIR; D pretraining."""
        # the generator: coarse FLAIR, mean absolute error against the target
        with self.autocast():
            if voxels is not None:
                pred = self.generator.forward_voxels(voxels.inputs)
            else:
                fake = pred = self.generator(batch.inputs)
        g_loss = mean_absolute_error(pred, voxels.target if voxels is not None else batch.target)
        self.opt_generator.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_generator.step()
        if not self.objective.uses_discriminator:
            return self._voxel_stats(g_loss, pred.detach(), voxels, batch)

        # the discriminator, pretrained on generated vs conventional FLAIR patches
        if voxels is not None:
            with torch.no_grad(), self.autocast():
                fake = self.generator(batch.inputs)
        fake = fake.detach()
        with self.autocast():
            real_logits, fake_logits = self.discriminate(batch.conventional, fake, batch.inputs)
        d_loss = discriminator_loss(real_logits, fake_logits)
        self.opt_discriminator.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_discriminator.step()
        return self._stats(g_loss, d_loss, fake, batch, real_logits, fake_logits)

    def stage2_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Stage 2 (cGAN): D minimizes its classification loss, G the negative of it."""
        with self.autocast():
            fake = self.generator(batch.inputs)
            real_logits, fake_logits = self.discriminate(batch.conventional, fake, batch.inputs)
        d_loss = discriminator_loss(real_logits, fake_logits)
        d_params = list(self.discriminator.parameters())
        g_params = list(self.generator.parameters())
        if self.config.gan_loss == "minimax":
            # G receives the negative of D's classification loss on its images
            grads = torch.autograd.grad(d_loss, d_params + g_params)
            d_grads = grads[: len(d_params)]
            g_grads = [-g for g in grads[len(d_params) :]]
            with torch.no_grad():
                g_loss = generator_loss(fake_logits, "minimax")
        else:
            g_loss = generator_loss(fake_logits, self.config.gan_loss)
            d_grads = torch.autograd.grad(d_loss, d_params, retain_graph=True)
            g_grads = torch.autograd.grad(g_loss, g_params)
        for params, grads in ((d_params, d_grads), (g_params, g_grads)):
            for param, grad in zip(params, grads, strict=True):
                param.grad = grad
        self.opt_discriminator.step()
        self.opt_generator.step()
        return self._stats(g_loss, d_loss, fake.detach(), batch, real_logits, fake_logits)

    def stage2_mixed_step(
        self, batch: Batch | None, voxels: VoxelBatch | None
    ) -> dict[str, torch.Tensor]:
        """Stage 2 with a paired term: G minimizes ``adversarial * L_G + paired * L_paired``."""
        objective = self.objective
        g_params = list(self.generator.parameters())
        total = torch.zeros((), device=self.device)
        if objective.paired > 0:
            with self.autocast():
                if voxels is not None:
                    pred = self.generator.forward_voxels(voxels.inputs)
                    target, hyper = voxels.conventional, voxels.hyper
                else:
                    pred = self.generator(batch.inputs)
                    target, hyper = batch.conventional, batch.target
            p_loss = paired_loss(pred, target, self.quantiles(hyper))
            total = total + objective.paired * p_loss
        d_loss = real_logits = fake_logits = None
        if objective.uses_discriminator:
            with self.autocast():
                fake = self.generator(batch.inputs)
                real_logits, fake_logits = self.discriminate(batch.conventional, fake, batch.inputs)
            d_loss = discriminator_loss(real_logits, fake_logits)
            d_params = list(self.discriminator.parameters())
            d_grads = torch.autograd.grad(d_loss, d_params, retain_graph=True)
            total = total + objective.adversarial * generator_loss(
                fake_logits, self.config.gan_loss
            )
        g_grads = torch.autograd.grad(total, g_params)
        for param, grad in zip(g_params, g_grads, strict=True):
            param.grad = grad
        if d_loss is not None:
            for param, grad in zip(d_params, d_grads, strict=True):
                param.grad = grad
            self.opt_discriminator.step()
        self.opt_generator.step()
        if objective.paired == 0:
            return self._stats(total, d_loss, fake.detach(), batch, real_logits, fake_logits)
        stats = self._voxel_stats(total, pred.detach(), voxels, batch)
        if d_loss is not None:
            stats["d_loss"] = d_loss.detach()
            stats["d_real"] = torch.sigmoid(real_logits[0].float()).mean()
            stats["d_fake"] = torch.sigmoid(fake_logits[0].float()).mean()
        return stats

    @torch.no_grad()
    def _voxel_stats(self, g_loss, pred, voxels, batch):
        """The logged scalars when the generator's loss was taken on voxels (or w/o D)."""
        source = voxels if voxels is not None else batch
        pred = pred.float()
        nan = torch.full((), float("nan"), device=pred.device)
        return {
            "g_loss": g_loss.detach(),
            "d_loss": nan,
            "mae_target": (pred - source.target).abs().mean(),
            "mae_conventional": (pred - source.conventional).abs().mean(),
            "d_real": nan,
            "d_fake": nan,
        }

    @torch.no_grad()
    def _stats(self, g_loss, d_loss, fake, batch, real_logits, fake_logits):
        fake = fake.float()
        return {
            "g_loss": g_loss.detach(),
            "d_loss": d_loss.detach(),
            "mae_target": (fake - batch.target).abs().mean(),
            "mae_conventional": (fake - batch.conventional).abs().mean(),
            "d_real": torch.sigmoid(real_logits[0].float()).mean(),
            "d_fake": torch.sigmoid(fake_logits[0].float()).mean(),
        }

    def state(self) -> dict:
        """Optimizer states (the networks are saved by the caller)."""
        return {
            "opt_generator": self.opt_generator.state_dict(),
            "opt_discriminator": self.opt_discriminator.state_dict(),
        }

    def load_state(self, state: dict) -> None:
        """Restore :meth:`state`."""
        self.opt_generator.load_state_dict(state["opt_generator"])
        self.opt_discriminator.load_state_dict(state["opt_discriminator"])
