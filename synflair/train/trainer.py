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
"""

from __future__ import annotations

import torch
from torch import nn

from synflair.train.config import OptimizerConfig, TrainConfig
from synflair.train.data import Batch
from synflair.train.losses import discriminator_loss, generator_loss, mean_absolute_error

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

    def autocast(self):
        """bf16 autocast on CUDA when ``amp`` is set; a no-op otherwise."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    def step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One iteration of the configured stage; returns the scalars to log."""
        if self.stage == 1:
            return self.stage1_step(batch)
        return self.stage2_step(batch)

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

    def stage1_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Stage 1: G by MAE against the CSF-suppressed synthetic FLAIR; D pretraining."""
        # the generator: coarse FLAIR, mean absolute error against the target
        with self.autocast():
            fake = self.generator(batch.inputs)
        g_loss = mean_absolute_error(fake, batch.target)
        self.opt_generator.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_generator.step()

        # the discriminator, pretrained on generated vs conventional FLAIR patches
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
