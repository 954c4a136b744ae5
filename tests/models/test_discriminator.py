"""The multi-resolution U-Net discriminator: shapes, shared head, batch norm, validation."""

import pytest
import torch
from torch import nn

from synflair.models import MultiResDiscriminator, init_parameters


def test_logits_at_each_resolution_have_the_right_shapes():
    d = MultiResDiscriminator(in_channels=1, base_channels=8, levels=4)
    logits = d(torch.rand(3, 1, 64, 48))
    assert [tuple(y.shape) for y in logits] == [
        (3, 1, 64, 48),
        (3, 1, 32, 24),
        (3, 1, 16, 12),
        (3, 1, 8, 6),
    ]


def test_one_level_is_a_plain_per_pixel_classifier():
    d = MultiResDiscriminator(in_channels=3, base_channels=4, levels=1)
    logits = d(torch.rand(2, 3, 10, 6))
    assert len(logits) == 1 and logits[0].shape == (2, 1, 10, 6)


def test_the_head_is_shared_across_resolutions():
    d = MultiResDiscriminator(base_channels=4, levels=3)
    heads = [m for m in d.modules() if isinstance(m, nn.Conv2d) and m.out_channels == 1]
    assert heads == [d.head]
    d.eval()
    x = torch.rand(2, 1, 16, 16)
    with torch.no_grad():
        before = [y.clone() for y in d(x)]
        d.head.bias += 1.0  # one parameter change moves every resolution's logits
        after = d(x)
    for b, a in zip(before, after, strict=True):
        torch.testing.assert_close(a, b + 1.0)


def test_it_is_batch_normalized_and_trains():
    d = init_parameters(
        MultiResDiscriminator(base_channels=4, levels=2), torch.Generator().manual_seed(0)
    )
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) >= 4
    real, fake = torch.rand(4, 1, 16, 16) + 1.0, torch.rand(4, 1, 16, 16)
    opt = torch.optim.Adam(d.parameters(), lr=1e-2)
    labels = torch.cat([torch.ones(4), torch.zeros(4)])
    for _ in range(30):
        logits = d(torch.cat([real, fake]))
        loss = sum(
            nn.functional.binary_cross_entropy_with_logits(y.mean(dim=(1, 2, 3)), labels)
            for y in logits
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        full = d(torch.cat([real, fake]))[0].mean(dim=(1, 2, 3))
    assert bool((full[:4] > full[4:].max()).all())


def test_patch_size_must_be_divisible():
    d = MultiResDiscriminator(levels=3)
    assert d.divisor == 4
    with pytest.raises(ValueError, match="divisible by 4"):
        d(torch.rand(1, 1, 18, 16))


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="levels must be a positive integer"):
        MultiResDiscriminator(levels=0)
    with pytest.raises(ValueError, match=r"\(N, 2, H, W\)"):
        MultiResDiscriminator(in_channels=2, levels=1)(torch.rand(1, 1, 4, 4))
