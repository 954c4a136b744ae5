"""Complex reconstruction helpers: phase units and the background phase estimate."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.errors import SynflairError
from synflair.io.phase import background_phase, phase_to_radians


def test_phase_units():
    radians = np.linspace(-np.pi, np.pi, 11)
    np.testing.assert_array_equal(phase_to_radians(radians), radians)
    np.testing.assert_allclose(phase_to_radians(np.rint(radians * 1000)), radians, atol=1e-3)
    siemens = np.rint(radians * 4096 / np.pi).clip(-4096, 4095)
    np.testing.assert_allclose(phase_to_radians(siemens), radians, atol=1e-3)
    with pytest.raises(SynflairError, match="values up to 9000"):
        phase_to_radians(np.array([0.0, 9000.0]), name="x")


def test_constant_phase_is_recovered_exactly():
    image = np.full((16, 12, 2), 3.0) * np.exp(1j * 2.2)
    np.testing.assert_allclose(background_phase(image, (2.0, 2.0)), 2.2, atol=1e-12)


def test_linear_phase_is_recovered_where_the_object_fills_the_kernel():
    x = np.arange(40)[:, None, None] * np.ones((40, 40, 1))
    phase = 0.1 * x - 2.0
    estimate = background_phase(np.exp(1j * phase), (1.0, 1.0), sigma_mm=3.0, iterations=1)
    inner = estimate[13:27] - phase[13:27]  # kernel radius 4 sigma = 12 px
    assert np.abs(np.angle(np.exp(1j * inner))).max() < 1e-5  # float32


def test_refinement_reduces_the_edge_bias():
    x, y = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    disk = (np.hypot(x - 15.5, y - 15.5) < 12)[..., None].astype(float)
    phase = (0.15 * x + 0.1 * y)[..., None]
    image = disk * np.exp(1j * phase)

    def worst(iterations):
        estimate = background_phase(image, (1.0, 1.0), sigma_mm=2.0, iterations=iterations)
        return np.abs(np.angle(np.exp(1j * (estimate - phase))))[disk > 0].max()

    assert worst(3) < 0.5 * worst(1)
    assert worst(1) > 0.05  # the bias the refinement is there for


def test_bad_parameters():
    with pytest.raises(ValueError, match="sigma_mm"):
        background_phase(np.ones((4, 4)), (1, 1), sigma_mm=0)
    with pytest.raises(ValueError, match="iterations"):
        background_phase(np.ones((4, 4)), (1, 1), iterations=0)


def test_wide_kernels_on_a_coarse_grid_match_the_direct_filter(monkeypatch):
    """The block-averaged low-pass (used for sigma >= 4 px) agrees with the direct filter."""
    from synflair.io import phase as module

    n = 128
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    radius = np.hypot(x - 60, (y - 66) * 1.2)
    disk, inner = radius < 50, (radius < 40)[..., None]
    # ~0.2 rad per sigma, as across a head at 3T
    phase = 0.015 * x - 0.009 * y + 6e-5 * (x - 60) ** 2
    rng = np.random.default_rng(4)
    image = (disk * rng.uniform(0.8, 1.2, (n, n)) * np.exp(1j * phase))[..., None]
    fast, direct = module.low_pass(image, (10.0, 10.0)), module._gaussian(image, (10.0, 10.0))
    assert np.abs(np.angle(fast / direct))[inner].max() < 0.01  # half a block off: ~0.04
    assert (np.abs(fast - direct) / np.abs(direct))[inner].max() < 0.03

    def worst(estimate):
        error = np.abs(np.angle(np.exp(1j * (estimate[..., 0] - phase))))
        return error[disk].max(), error[inner[..., 0]].max()

    fast_error = worst(background_phase(image, (1.0, 1.0), sigma_mm=10.0))
    monkeypatch.setattr(module, "low_pass", module._gaussian)
    direct_error = worst(background_phase(image, (1.0, 1.0), sigma_mm=10.0))
    assert fast_error[0] < 1.2 * direct_error[0] and fast_error[1] < 1.2 * direct_error[1]
    assert fast_error[1] < 0.03
