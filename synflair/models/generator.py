"""The paper's pixel-wise generator (Hagiwara et al., AJNR 2019, Fig 1A).

The generator maps the raw synthetic-MRI signals of one voxel to one FLAIR
value, with the same weights for every voxel. Two parallel fully connected
streams receive the same input vector:

* the **signal stream**: one hidden layer of 128 units with logistic-sigmoid
  activation and one output with *squaring* activation, which keeps the output
  non-negative with continuous derivatives (FLAIR takes the absolute signal).
  Alone it learns "T2-weighted-like" images;
* the **suppression stream**: one hidden layer of 128 units with ELU
  activation and one output with logistic-sigmoid activation, a gate in
  ``(0, 1)`` that suppresses CSF.

The FLAIR value is the product of the two outputs. Both layers are written as
1x1 convolutions, so the network maps whole slices or patches of any size and
cannot mix neighbouring pixels.

With 8 inputs it has ``2 x (8 x 128 + 128) + 2 x (128 + 1) = 2562`` parameters.

**Relative output** (``relative=True``, synflair's demo recipe, not the paper): the
synthetic FLAIR is a ninth input and the output is the synthetic FLAIR times the
two streams' product. Still pixel-wise. A pixel-wise regression saturates at the
brightest FLAIR its training subjects held (sigmoid units), so lesions brighter
than those came out dimmed; a factor on the synthetic FLAIR, whose lesions follow
the signal equation, carries over to them (docs/recipe.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PixelGenerator"]


class PixelGenerator(nn.Module):
    """Two-stream pixel-wise generator: ``(w_s . sigmoid(...) + b_s)^2 * sigmoid(w_g . elu(...))``.

    Parameters
    ----------
    in_channels : int
        Signals per voxel: 8 MDME magnitudes (the paper), 8 phase-corrected
        real parts, or 16 real and imaginary parts.
    hidden : int
        Units of each stream's hidden layer (paper: 128).
    relative : bool
        The last input channel is the synthetic FLAIR (on the training scale of the
        targets), and the output is that channel times the two streams' product:
        a learned non-negative factor (``data.relative``; paper: false).

    Notes
    -----
    Input ``(N, in_channels, H, W)`` (normalized MDME signals, see
    :mod:`synflair.train.data`); output ``(N, 1, H, W)``, non-negative, on the
    training scale of the FLAIR targets.

    References
    ----------
    Hagiwara A, et al. AJNR 2019;40:224-230, "DL Framework" and Fig 1A.
    Clevert D-A, et al. Fast and accurate deep network learning by exponential
    linear units (ELUs). ICLR 2016.
    """

    def __init__(self, in_channels: int = 8, hidden: int = 128, *, relative: bool = False) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("hidden", hidden)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if relative and in_channels < 2:
            raise ValueError("a relative generator needs the signals and the synthetic FLAIR")
        self.in_channels = in_channels
        self.hidden = hidden
        self.relative = bool(relative)
        # signal stream: sigmoid hidden layer, squared output
        self.signal_hidden = nn.Conv2d(in_channels, hidden, kernel_size=1)
        self.signal_out = nn.Conv2d(hidden, 1, kernel_size=1)
        # suppression stream: ELU hidden layer, sigmoid output in (0, 1)
        self.suppression_hidden = nn.Conv2d(in_channels, hidden, kernel_size=1)
        self.suppression_out = nn.Conv2d(hidden, 1, kernel_size=1)

    def signal(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the signal stream, ``(N, 1, H, W)``, >= 0."""
        return self.signal_out(torch.sigmoid(self.signal_hidden(x))).square()

    def suppression(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the suppression stream, ``(N, 1, H, W)``, in ``(0, 1)``."""
        return torch.sigmoid(self.suppression_out(F.elu(self.suppression_hidden(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """FLAIR ``(N, 1, H, W)`` from normalized signals ``(N, in_channels, H, W)``."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"input must have shape (N, {self.in_channels}, H, W), not {tuple(x.shape)}"
            )
        out = self.signal(x) * self.suppression(x)
        return out * x[:, -1:].abs() if self.relative else out

    def forward_voxels(self, x: torch.Tensor) -> torch.Tensor:
        """The same map applied to a voxel list ``(n, in_channels)``; returns ``(n,)``.

        Uses the convolution weights as dense matrices (channels-last), which
        is what a GPU evaluates fastest for whole volumes.
        """
        if x.ndim != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"input must have shape (n, {self.in_channels}), not {tuple(x.shape)}")

        def dense(conv: nn.Conv2d, v: torch.Tensor) -> torch.Tensor:
            return F.linear(v, conv.weight[:, :, 0, 0], conv.bias)

        signal = dense(self.signal_out, torch.sigmoid(dense(self.signal_hidden, x))).square()
        gate = torch.sigmoid(dense(self.suppression_out, F.elu(dense(self.suppression_hidden, x))))
        out = (signal * gate)[:, 0]
        return out * x[:, -1].abs() if self.relative else out
