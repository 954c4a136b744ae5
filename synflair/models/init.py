"""Reproducible weight initialization from an explicit ``torch.Generator``.

PyTorch modules draw their initial weights from the global random state.
Library code here never seeds that state; instead the weights are drawn again
from a caller-supplied generator, with the same distributions as PyTorch's
defaults, so that a seed in the training configuration fixes them.
"""

from __future__ import annotations

import math

import torch
from torch import nn


@torch.no_grad()
def init_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-draw all convolution and batch-norm parameters of ``module`` from ``generator``.

    Convolutions get PyTorch's default, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``
    for weights and biases (``kaiming_uniform_`` with ``a = sqrt(5)``); batch
    normalization gets weight 1, bias 0 and reset running statistics.

    Parameters
    ----------
    module : torch.nn.Module
        Modified in place.
    generator : torch.Generator
        A CPU generator (the parameters are drawn on the CPU and copied).

    Returns
    -------
    torch.nn.Module
        ``module``.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            weight = layer.weight
            fan_in = weight.shape[1] * math.prod(weight.shape[2:])
            if isinstance(layer, nn.ConvTranspose2d):
                fan_in = weight.shape[0] * math.prod(weight.shape[2:])
            bound = 1.0 / math.sqrt(fan_in)
            values = torch.empty(weight.shape).uniform_(-bound, bound, generator=generator)
            weight.copy_(values)
            if layer.bias is not None:
                bias = torch.empty(layer.bias.shape).uniform_(-bound, bound, generator=generator)
                layer.bias.copy_(bias)
        elif isinstance(layer, nn.BatchNorm2d):
            layer.reset_parameters()
    return module
