"""The multi-resolution, segmentation-like discriminator (Hagiwara et al., AJNR 2019, Fig 1B).

What the paper says: the discriminator "return[s] the classification results
pixel by pixel in different resolutions", its structure is "similar to U-Net",
it is batch-normalized, and it uses "the same weight across different pixels
and resolutions". Its exact layers are only in a figure. What we chose:

* **A U-Net** (Ronneberger et al. 2015) with ``levels`` resolutions. Encoder
  level ``l`` has ``base_channels * 2**l`` channels: two 3x3 convolutions, each
  followed by batch normalization and LeakyReLU(0.2); 2x2 max pooling between
  levels. The decoder goes back up by nearest-neighbour upsampling,
  concatenates the encoder's skip features and applies two conv-BN-LeakyReLU
  blocks.
* **Every decoder level has the same width** (``base_channels``), and **one
  shared classification head** (a 1x1 convolution to one logit) is applied to
  the decoder features at every level. So the logits at full, 1/2, 1/4, ...
  resolution are computed with the same weights across pixels (convolution) and
  across resolutions (the shared head); the deepest level is brought to the
  common width by a 1x1 conv-BN-LeakyReLU. This gives per-pixel real/fake
  decisions at several scales in one pass (cheaper than running a network on
  an image pyramid, and the coarse decisions see a large context, the fine ones
  local texture such as granular CSF artifacts and bright rims).
* **Unconditional by default**: the discriminator sees a FLAIR patch only, as
  the paper's text describes ("The generated images were again fed into the
  discriminator, which received target images (conventional FLAIR patches)").
  With ``conditional=True`` it also receives the generator's input signals
  (concatenated as extra channels), as in pix2pix-style cGANs.

Outputs are logits (before the logistic sigmoid), finest resolution first:
``[(N, 1, H, W), (N, 1, H/2, W/2), ..., (N, 1, H/2**(levels-1), W/2**(levels-1))]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MultiResDiscriminator"]

_SLOPE = 0.2


def _conv_bn(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.LeakyReLU(_SLOPE),
    )


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(_conv_bn(in_channels, out_channels), _conv_bn(out_channels, out_channels))


class MultiResDiscriminator(nn.Module):
    """U-Net discriminator with per-pixel logits at ``levels`` resolutions and a shared head.

    Parameters
    ----------
    in_channels : int
        Channels of the image it judges (1 FLAIR channel, plus the generator's
        input channels when conditional).
    base_channels : int
        Width of the first encoder level and of every decoder level.
    levels : int
        Number of resolutions (>= 1); patches must have sides divisible by
        ``2 ** (levels - 1)``.

    References
    ----------
    Hagiwara A, et al. AJNR 2019;40:224-230, "DL Framework" and Fig 1B.
    Ronneberger O, Fischer P, Brox T. U-Net. MICCAI 2015.
    """

    def __init__(self, in_channels: int = 1, base_channels: int = 32, levels: int = 4) -> None:
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("base_channels", base_channels),
            ("levels", levels),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.levels = levels
        widths = [base_channels * 2**level for level in range(levels)]
        self.encoder = nn.ModuleList()
        previous = in_channels
        for width in widths:
            self.encoder.append(_block(previous, width))
            previous = width
        # the deepest level, brought to the common decoder width
        self.lateral = _conv_bn(widths[-1], base_channels, kernel_size=1)
        # decoder level l (l = levels-2 ... 0): upsampled decoder + encoder skip -> base width
        self.decoder = nn.ModuleList(
            _block(base_channels + widths[level], base_channels) for level in range(levels - 1)
        )
        # one classification head shared by all resolutions
        self.head = nn.Conv2d(base_channels, 1, kernel_size=1)

    @property
    def divisor(self) -> int:
        """Patch sides must be multiples of this."""
        return 2 ** (self.levels - 1)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Per-pixel logits at each resolution, finest first.

        Parameters
        ----------
        image : torch.Tensor
            ``(N, in_channels, H, W)`` with ``H`` and ``W`` divisible by
            :attr:`divisor`.

        Returns
        -------
        list of torch.Tensor
            ``levels`` tensors; entry ``l`` has shape ``(N, 1, H / 2**l, W / 2**l)``.
        """
        if image.ndim != 4 or image.shape[1] != self.in_channels:
            raise ValueError(
                f"input must have shape (N, {self.in_channels}, H, W), not {tuple(image.shape)}"
            )
        if image.shape[2] % self.divisor or image.shape[3] % self.divisor:
            raise ValueError(
                f"patch sides must be divisible by {self.divisor} for {self.levels} levels, "
                f"not {tuple(image.shape[2:])}"
            )
        skips = []
        features = image
        for level, block in enumerate(self.encoder):
            if level:
                features = F.max_pool2d(features, 2)
            features = block(features)
            skips.append(features)
        features = self.lateral(features)
        logits = [self.head(features)]
        for level in range(self.levels - 2, -1, -1):
            features = F.interpolate(features, scale_factor=2.0, mode="nearest")
            features = self.decoder[level](torch.cat([features, skips[level]], dim=1))
            logits.append(self.head(features))
        return logits[::-1]
