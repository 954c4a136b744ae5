"""Slice geometry, profile, k-space truncation and signal sums (synflair.phantom.acquisition)."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.geometry import orientation_of, slice_positions, stack_affine
from synflair.phantom.acquisition import (
    downsample,
    flair_signal,
    grid_affine,
    kspace_truncate,
    mdme_signal,
    plane_points,
    signal_purity,
    slice_profile,
)
from synflair.phantom.presets import get_preset
from synflair.physics import CONVENTIONAL_FLAIR, MDME_PAPER


def test_grid_affine_is_the_dicom_geometry():
    g = get_preset("paper").geometry
    affine = grid_affine(g, g.recon_matrix)
    orientation, spacing, step = orientation_of(affine)
    assert np.allclose(orientation, [1, 0, 0, 0, 1, 0])
    assert np.allclose(spacing, 240 / 512) and step == pytest.approx(5.0)
    rebuilt = stack_affine(slice_positions(affine, 1)[0], orientation, spacing, step)
    assert np.allclose(rebuilt, affine)
    # Pixel n/2 of the middle of the slab is the FOV centre.
    middle = affine @ [256, 256, (g.n_slices - 1) / 2, 1]
    assert np.allclose(middle[:3], g.center_mni)
    # The fine grid shares the FOV corner.
    fine = grid_affine(g, (1024, 1024))
    assert np.allclose(fine[:3, 3], affine[:3, 3])
    assert np.allclose(fine[:3, 0] * 2, affine[:3, 0])


def test_plane_points():
    g = get_preset("ci").geometry
    affine = grid_affine(g, g.recon_matrix)
    points = plane_points(affine, g.recon_matrix, 2)
    assert points.shape == (3, 96, 96)
    assert np.allclose(points[:, 5, 7], (affine @ [5, 7, 2, 1])[:3], atol=1e-4)


def test_slice_profile():
    offsets, weights = slice_profile(4.0, 7)
    assert weights.sum() == pytest.approx(1.0)
    assert offsets[0] == -3.0 and offsets[-1] == 3.0
    # Integrated profile (1 mm samples) = thickness: relative weight at the edge +-2 mm is 1/2.
    assert weights[1] / weights[3] == pytest.approx(0.5, abs=1e-3)
    assert np.allclose(weights, weights[::-1])
    assert slice_profile(4.0, 1) == (np.zeros(1), np.ones(1))
    with pytest.raises(ValueError, match="thickness"):
        slice_profile(0.0, 5)


def test_downsample_keeps_positions():
    x = np.arange(32, dtype=float)
    ramp = np.broadcast_to(x[:, None], (32, 32))
    for factor in (1, 2, 3):
        out = downsample(ramp, factor)
        # The cell average of a linear ramp equals the ramp at the kept sample.
        assert np.allclose(out[1:-1, 1:-1], x[::factor][1:-1, None])
    assert np.allclose(downsample(np.full((2, 16, 16), 0.3), 2), 0.3)


def test_kspace_full_matrix_is_identity():
    rng = np.random.default_rng(0)
    image = rng.standard_normal((2, 16, 16)) + 1j * rng.standard_normal((2, 16, 16))
    assert np.allclose(kspace_truncate(image, (16, 16), (16, 16)), image, atol=1e-5)


def test_kspace_resamples_band_limited_images_exactly():
    n, m, a = 64, 48, 32
    fov = 1.0
    x_fine = (np.arange(n) - n // 2) * fov / n
    x_recon = (np.arange(m) - m // 2) * fov / m

    def wave(x):
        return 1.0 + np.cos(2 * np.pi * 5 * x[:, None] + 0.3) * np.sin(2 * np.pi * 3 * x[None, :])

    out = kspace_truncate(wave(x_fine), (a, a), (m, m))
    assert np.allclose(out.real, wave(x_recon), atol=1e-5)
    assert np.allclose(out.imag, 0, atol=1e-5)


def test_kspace_truncation_blurs_an_edge_and_keeps_the_mean():
    image = np.zeros((64, 64))
    image[:, 32:] = 1.0
    out = kspace_truncate(image, (16, 16), (64, 64)).real
    assert out.mean() == pytest.approx(image.mean(), abs=1e-6)
    assert 0.05 < out[10, 31] < 0.95  # partial volume across the edge
    assert out.min() < -0.01  # Gibbs ringing


def test_signal_purity_falls_near_an_edge_and_is_one_far_from_it():
    fractions = np.zeros((2, 64, 64, 2), dtype=np.float32)
    fractions[0, :, :32] = 1.0
    fractions[1, :, 32:] = 1.0
    purity = signal_purity(fractions, (64, 64))  # nothing truncated: box purity
    np.testing.assert_allclose(purity, fractions, atol=1e-5)
    purity = signal_purity(fractions, (16, 16))
    assert purity.shape == fractions.shape
    assert np.all(purity <= 1 + 1e-6)
    # next to the edge both compartments leak into each other ...
    assert purity[0, 10, 31, 0] < 0.8 and purity[1, 10, 32, 0] < 0.8
    assert purity[0, 10, 30, 0] < 0.95  # two voxels away, still below the 95 % criterion
    # ... and the box fractions (1 there) overstate what the signal is made of
    assert fractions[0, 10, 30, 0] == 1.0
    with pytest.raises(ValueError, match="shape"):
        signal_purity(fractions[..., 0], (16, 16))


def test_kspace_noise_level():
    rng = np.random.default_rng(1)
    zero = np.zeros((4, 64, 64))
    noisy = kspace_truncate(zero, (32, 48), (64, 64), noise_sigma=0.1, rng=rng)
    assert noisy.real.std() == pytest.approx(0.1, rel=0.05)
    assert noisy.imag.std() == pytest.approx(0.1, rel=0.05)
    with pytest.raises(ValueError, match="rng"):
        kspace_truncate(zero, (32, 32), (64, 64), noise_sigma=0.1)
    with pytest.raises(ValueError, match="must not exceed"):
        kspace_truncate(zero, (80, 32), (64, 64))
    with pytest.raises(ValueError, match="even"):
        kspace_truncate(zero, (31, 32), (64, 64))


def test_mdme_signal_sums_signed_compartments():
    t1 = np.array([830.0, 4000.0])
    t2 = np.array([80.0, 1500.0])
    pd = np.array([0.68, 1.0])
    b1 = np.full((3,), 0.95)
    pure = np.array([[1, 0, 0.5], [0, 1, 0.5]], dtype=float)
    out = mdme_signal(pure, t1, t2, pd, b1, MDME_PAPER)
    assert out.shape == (8, 3)
    wm = MDME_PAPER.signal(830.0, 80.0, 0.68, 0.95)
    csf = MDME_PAPER.signal(4000.0, 1500.0, 1.0, 0.95)
    assert np.allclose(out[:, 0], wm, rtol=1e-5)
    assert np.allclose(out[:, 1], csf, rtol=1e-5)
    assert np.allclose(out[:, 2], 0.5 * (wm + csf), rtol=1e-5)
    # Signed: short saturation delays are negative in CSF (TD1 and TD2, both echoes).
    assert np.all(out[:4, 1].real < 0) and np.all(out[6:, 1].real > 0)
    # Flow: full inflow gives the fully relaxed signal; the factor multiplies.
    inflow = np.ones((8, 3))
    factor = np.full((8, 3), 0.5 * np.exp(0.2j))
    flowed = mdme_signal(
        pure, t1, t2, pd, b1, MDME_PAPER, csf_index=1, inflow=inflow, flow_factor=factor
    )
    fresh = 1.0 * np.exp(-MDME_PAPER.volume_te / 1500.0)
    assert np.allclose(flowed[:, 1], fresh * 0.5 * np.exp(0.2j), rtol=1e-5)
    assert np.allclose(flowed[:, 0], out[:, 0])


def test_flair_signal_is_signed_and_linear():
    # WM and a long-T1 fluid (T1 5000 ms) that TI 2472 / TR 9000 leaves on the negative side.
    t1 = np.array([830.0, 5000.0])
    t2 = np.array([80.0, 1500.0])
    pd = np.array([0.68, 1.0])
    fractions = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.7]])
    out = flair_signal(fractions, t1, t2, pd, CONVENTIONAL_FLAIR)
    wm, fluid = (CONVENTIONAL_FLAIR.signal(a, b, c) for a, b, c in zip(t1, t2, pd, strict=True))
    assert out[0] == pytest.approx(wm, rel=1e-5)
    assert out[1] == pytest.approx(-fluid, rel=1e-5)
    assert out[2] == pytest.approx(0.3 * wm - 0.7 * fluid, rel=1e-5)
    # The magnitude of the sum is below the sum of the magnitudes (partial-volume cancellation).
    assert abs(out[2]) < 0.3 * wm + 0.7 * fluid
