"""Losses against hand computations."""

import math

import pytest
import torch

from synflair.train.losses import discriminator_loss, generator_loss, mean_absolute_error


def _bce(p, label):
    return -(label * math.log(p) + (1 - label) * math.log(1 - p))


def _sigmoid(t):
    return 1 / (1 + math.exp(-t))


def test_mae_by_hand():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = torch.tensor([[1.5, 2.0], [1.0, 4.0]])
    assert mean_absolute_error(a, b).item() == pytest.approx((0.5 + 0 + 2 + 0) / 4)
    with pytest.raises(ValueError, match="shapes differ"):
        mean_absolute_error(a, b[:1])


def test_discriminator_loss_by_hand():
    # two resolutions: 2x2 and 1x1 per image, batch of 1
    real = [torch.tensor([[[[0.0, 1.0], [2.0, -1.0]]]]), torch.tensor([[[[0.5]]]])]
    fake = [torch.tensor([[[[-2.0, 0.0], [1.0, 3.0]]]]), torch.tensor([[[[-0.5]]]])]
    fine = (
        sum(_bce(_sigmoid(v), 1) for v in (0.0, 1.0, 2.0, -1.0)) / 4
        + sum(_bce(_sigmoid(v), 0) for v in (-2.0, 0.0, 1.0, 3.0)) / 4
    )
    coarse = _bce(_sigmoid(0.5), 1) + _bce(_sigmoid(-0.5), 0)
    assert discriminator_loss(real, fake).item() == pytest.approx((fine + coarse) / 2, rel=1e-6)


def test_a_perfect_discriminator_has_near_zero_loss_and_chance_has_2_log_2():
    real = [torch.full((3, 1, 4, 4), 30.0), torch.full((3, 1, 2, 2), 30.0)]
    fake = [torch.full((3, 1, 4, 4), -30.0), torch.full((3, 1, 2, 2), -30.0)]
    assert discriminator_loss(real, fake).item() < 1e-10
    zeros = [torch.zeros(3, 1, 4, 4)]
    assert discriminator_loss(zeros, zeros).item() == pytest.approx(2 * math.log(2))


def test_generator_losses_by_hand():
    fake = [torch.tensor([[[[-1.0, 2.0]]]]), torch.tensor([[[[0.0]]]])]
    d_fake = [(_bce(_sigmoid(-1.0), 0) + _bce(_sigmoid(2.0), 0)) / 2, _bce(0.5, 0)]
    minimax = -(d_fake[0] + d_fake[1]) / 2
    assert generator_loss(fake, "minimax").item() == pytest.approx(minimax, rel=1e-6)
    ns = [(_bce(_sigmoid(-1.0), 1) + _bce(_sigmoid(2.0), 1)) / 2, _bce(0.5, 1)]
    assert generator_loss(fake, "non_saturating").item() == pytest.approx(sum(ns) / 2, rel=1e-6)


def test_minimax_is_the_negative_of_ds_loss_on_generated_images():
    g = torch.Generator().manual_seed(0)
    fake = [torch.randn(2, 1, 8, 8, generator=g), torch.randn(2, 1, 4, 4, generator=g)]
    real = [torch.randn(2, 1, 8, 8, generator=g), torch.randn(2, 1, 4, 4, generator=g)]
    certain_real = [torch.full_like(r, 50.0) for r in real]  # no loss from the real term
    assert generator_loss(fake).item() == pytest.approx(
        -discriminator_loss(certain_real, fake).item(), rel=1e-6
    )


def test_bad_inputs():
    with pytest.raises(ValueError, match="at least one resolution"):
        discriminator_loss([], [])
    with pytest.raises(ValueError, match="resolutions"):
        discriminator_loss([torch.zeros(1)], [torch.zeros(1), torch.zeros(1)])
    with pytest.raises(ValueError, match="kind must be"):
        generator_loss([torch.zeros(1)], "hinge")
