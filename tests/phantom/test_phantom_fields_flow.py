"""Scanner fields (synflair.phantom.fields) and CSF flow (synflair.phantom.flow)."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.phantom.fields import (
    _reference_points,
    draw_b1,
    draw_background_phase,
    draw_receive_bias,
    quadratic_basis,
)
from synflair.phantom.flow import FlowPerturbation, draw_flow, flow_maps

CENTER = np.array([0.0, -18.0, 10.0])


def test_b1_deviation_is_the_drawn_one():
    for seed in range(10):
        field = draw_b1(np.random.default_rng(seed), CENTER, (0.05, 0.15))
        values = field(_reference_points() * 100 + CENTER[:, None])
        deviation = np.abs(values - 1).max()
        assert 0.05 - 1e-9 <= deviation <= 0.15 + 1e-9
        assert values.max() - 1 == pytest.approx(1 - values.min())  # centred on 1
    grid = (
        np.stack(np.meshgrid(*[np.linspace(-60, 60, 5)] * 3, indexing="ij"))
        + CENTER[:, None, None, None]
    )
    assert field(grid).shape == (5, 5, 5)


def test_receive_bias_is_one_at_the_centre_and_smooth():
    bias = draw_receive_bias(np.random.default_rng(0), CENTER, 0.12)
    assert bias(CENTER[:, None])[0] == pytest.approx(1.0)
    points = CENTER[:, None] + np.array([[80.0, 0, 0], [0, 80, 0], [0, 0, 60]]).T
    values = bias(points)
    assert np.all((values > 0.6) & (values < 1.6))
    assert bias(points + np.array([[1.0], [0], [0]])) == pytest.approx(values, rel=0.02)


def test_coil_gain_brightens_the_periphery():
    points = CENTER[:, None] + np.array([[0.0, 0, 0], [80, 0, 0], [0, 80, 0], [-80, 0, 0]]).T
    flat = np.mean(
        [draw_receive_bias(np.random.default_rng(s), CENTER, 0.0)(points) for s in range(5)], axis=0
    )
    assert np.allclose(flat, 1.0)
    coil = draw_receive_bias(np.random.default_rng(0), CENTER, 0.0, (0.4, 0.9))(points)
    assert coil[0] == pytest.approx(1.0)
    assert np.all((coil[1:] > np.exp(0.4 * 0.64) - 1e-9) & (coil[1:] < np.exp(0.9 * 0.64) + 1e-9))
    with pytest.raises(ValueError, match="coil_gain"):
        draw_receive_bias(np.random.default_rng(0), CENTER, 0.1, (0.9, 0.4))


def test_background_phase_differs_between_echoes():
    phase = draw_background_phase(np.random.default_rng(0), CENTER, 2)
    points = CENTER[:, None] + np.random.default_rng(1).uniform(-80, 80, (3, 100))
    p0, p1 = phase(points, 0), phase(points, 1)
    assert not np.allclose(p0, p1)
    # Smooth: under 0.1 rad per mm; reproducible.
    step = phase(points + np.array([[1.0], [0.0], [0.0]]), 0) - p0
    assert np.all(np.abs(step) < 0.1)
    again = draw_background_phase(np.random.default_rng(0), CENTER, 2)
    assert np.array_equal(again(points, 1), p1)
    with pytest.raises(ValueError, match="echo"):
        phase(points, 2)


def test_quadratic_basis():
    u = np.array([[2.0], [3.0], [5.0]])
    assert quadratic_basis(u)[:, 0].tolist() == [1, 2, 3, 5, 4, 9, 25, 6, 10, 15]


def test_no_flow_means_no_perturbation():
    flow = FlowPerturbation(0.0, 0.5, 0.4, 0.8, 1.5, seed=1)
    inflow, factor = flow_maps(flow, (32, 32), 1.0, 8, 0)
    assert np.all(inflow == 0) and np.all(factor == 1)


def test_flow_spots_cover_the_fraction_and_differ_between_images():
    flow = FlowPerturbation(0.2, 0.5, 0.4, 0.8, 1.5, seed=3)
    inflow, factor = flow_maps(flow, (128, 128), 1.0, 8, 4)
    assert inflow.shape == (8, 128, 128) and factor.shape == (8, 128, 128)
    covered = (inflow > 0).mean(axis=(1, 2))
    assert np.all((covered > 0.1) & (covered < 0.35))
    assert np.all(inflow <= 0.5 + 1e-6) and np.all(np.abs(factor) <= 1 + 1e-6)
    assert np.abs(factor).min() >= 0.6 - 1e-6
    # Different images, different spots; same inputs, same maps; another slice, other maps.
    assert np.corrcoef(inflow[0].ravel(), inflow[1].ravel())[0, 1] < 0.2
    again = flow_maps(flow, (128, 128), 1.0, 8, 4)
    assert np.array_equal(again[0], inflow) and np.array_equal(again[1], factor)
    other = flow_maps(flow, (128, 128), 1.0, 8, 5)
    assert not np.array_equal(other[0], inflow)
    # Propensity scales the strength.
    weak = flow_maps(flow, (128, 128), 1.0, 8, 4, propensity=np.full((128, 128), 0.5))
    assert np.allclose(weak[0], 0.5 * inflow, atol=1e-6)


def test_draw_flow():
    a = draw_flow(np.random.default_rng(0), 0.15, 0.5, 0.4, 0.8)
    assert a == draw_flow(np.random.default_rng(0), 0.15, 0.5, 0.4, 0.8)
    assert 0.075 <= a.fraction <= 0.225 and a.inflow <= 0.75
    with pytest.raises(ValueError, match="fraction"):
        FlowPerturbation(1.5, 0.5, 0.4, 0.8, 1.5, 0)
