"""Relaxation values (synflair.phantom.tissues) and scalp layers (synflair.phantom.scalp)."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.phantom.scalp import ScalpLayers, draw_scalp, scalp_fractions
from synflair.phantom.tissues import (
    COMPARTMENTS,
    INTRACRANIAL,
    REFERENCE,
    Relaxation,
    TissueValues,
    draw_tissues,
)


def test_reference_values_follow_the_design_table():
    assert REFERENCE["WM"].t1 == pytest.approx(830, rel=0.02)
    assert REFERENCE["GM"].t1 == pytest.approx(1330, rel=0.02)
    assert 4000 <= REFERENCE["CSF"].t1 <= 4500 and REFERENCE["CSF"].pd == 1.0
    # The abnormal pool of lesion tissue: T1-hypointense (longer T1 than GM) and T2-long;
    # mixed with normal-appearing WM it fits to the starting MS-lesion range of docs/phantom.md.
    assert REFERENCE["GM"].t1 < REFERENCE["lesion"].t1 <= 2000
    assert 100 <= REFERENCE["lesion"].t2 <= 200 and 0.75 <= REFERENCE["lesion"].pd <= 0.9
    assert REFERENCE["WM"].pd < REFERENCE["GM"].pd < REFERENCE["CSF"].pd
    assert set(INTRACRANIAL) < set(COMPARTMENTS) == set(REFERENCE)


def test_zero_spread_gives_the_reference():
    values = draw_tissues(np.random.default_rng(0), spread=0.0)
    assert values.values == REFERENCE


def test_spread_is_reproducible_and_bounded():
    a = draw_tissues(np.random.default_rng(3), spread=0.05)
    b = draw_tissues(np.random.default_rng(3), spread=0.05)
    assert a == b
    t1, _, pd = a.arrays()
    ref_t1, _, _ = TissueValues(REFERENCE).arrays()
    assert not np.allclose(t1, ref_t1)
    assert np.all(np.abs(t1 / ref_t1 - 1) <= 2 * 2.5 * 0.05 + 1e-9)
    assert np.all(pd <= 1.0)
    many = np.array([draw_tissues(np.random.default_rng(s)).values["WM"].t1 for s in range(200)])
    assert np.std(many) / REFERENCE["WM"].t1 == pytest.approx(0.05, rel=0.25)


def test_tissue_validation():
    with pytest.raises(ValueError, match="t1 must be"):
        Relaxation(-1.0, 80.0, 0.7)
    with pytest.raises(ValueError, match="pd must be"):
        Relaxation(800.0, 80.0, 2.0)
    with pytest.raises(ValueError, match="compartments"):
        TissueValues({"WM": REFERENCE["WM"]})
    with pytest.raises(ValueError, match="spread"):
        draw_tissues(np.random.default_rng(0), spread=0.5)
    rows = TissueValues(REFERENCE).rows()
    assert [r["tissue"] for r in rows] == list(COMPARTMENTS)


def test_scalp_layers_integrate_to_their_thickness():
    layers = ScalpLayers()
    d = np.arange(-5.0, 40.0, 0.01)
    far = np.array([[200.0] * d.size, [0.0] * d.size, [80.0] * d.size])  # no temporalis
    fractions = scalp_fractions(d, far, layers)
    # A 1 mm voxel profile integrated over distance returns the layer thickness.
    assert fractions["marrow"].sum() * 0.01 == pytest.approx(layers.diploe, abs=0.02)
    assert fractions["fat"].sum() * 0.01 == pytest.approx(layers.fat, abs=0.02)
    assert fractions["muscle"].sum() * 0.01 == pytest.approx(layers.muscle + layers.skin, abs=0.02)
    total = sum(fractions.values())
    assert np.all(total <= 1 + 1e-6)
    assert np.all(total[d < -0.5] == 0)  # nothing inside the intracranial volume
    assert np.all(total[d > 25] == 0)  # air beyond the skin
    # The inner table (cortical bone) gives no signal right outside the intracranial volume.
    assert np.all(total[(d > 0.5) & (d < layers.inner_table - 0.5)] == 0)


def test_temporalis_thickens_the_lateral_muscle():
    layers = ScalpLayers()
    d = np.arange(0.0, 30.0, 0.05)
    lateral = np.stack([np.full(d.size, 75.0), np.full(d.size, -10.0), np.zeros(d.size)])
    vertex = np.stack([np.zeros(d.size), np.full(d.size, -10.0), np.full(d.size, 80.0)])
    thick = scalp_fractions(d, lateral, layers)["muscle"].sum() * 0.05
    thin = scalp_fractions(d, vertex, layers)["muscle"].sum() * 0.05
    assert thick > thin + 0.8 * layers.temporalis


def test_draw_scalp():
    a, b = draw_scalp(np.random.default_rng(1)), draw_scalp(np.random.default_rng(1))
    assert a == b
    assert a != draw_scalp(np.random.default_rng(2))
    base = ScalpLayers()
    assert 0.8 * base.diploe <= a.diploe <= 1.2 * base.diploe
    with pytest.raises(ValueError, match="fat"):
        ScalpLayers(fat=-1.0)
