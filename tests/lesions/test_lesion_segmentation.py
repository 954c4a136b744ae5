import numpy as np
import pytest
from lesion_sim import simulate

from synflair.errors import SynflairError
from synflair.lesions import (
    DEFAULT_PARAMS,
    LesionParams,
    apply_override,
    belief_map,
    grow_lesions,
    lesion_detection,
    segment_lesions,
)
from synflair.metrics import dice


def run(sim, params=DEFAULT_PARAMS, flair=None):
    flair = sim.flair if flair is None else flair
    return segment_lesions(flair, sim.mask, sim.gm, sim.wm, sim.csf, params,
                           voxel_size=sim.voxel_size)  # fmt: skip


def test_dice_and_detection_on_simulated_conventional_flair(simulated):
    lesions, belief = run(simulated)
    score = dice(lesions, simulated.truth)
    found = lesion_detection(lesions, simulated.truth)
    print(f"simulated conventional FLAIR: Dice {score:.3f}, {found}")
    assert score >= 0.7
    assert found["tpr"] >= 0.9
    assert found["fpr"] <= 0.1
    assert lesions.dtype == bool and belief.dtype == np.float32


@pytest.mark.parametrize(
    "options",
    [
        {"where": "periventricular"},
        {"where": "juxtacortical", "radius_mm": (1.5, 4.0)},
        {"lesion_as": "WM", "bias": 0.3, "noise": 0.05},
        {"posterior_power": 50.0},
    ],
)
def test_periventricular_juxtacortical_and_wm_labelled_lesions(options):
    sim = simulate(np.random.default_rng(1), **options)
    lesions, _ = run(sim)
    found = lesion_detection(lesions, sim.truth)
    print(options, f"Dice {dice(lesions, sim.truth):.3f}", found)
    assert dice(lesions, sim.truth) >= 0.7
    assert found["tpr"] >= 0.8 and found["fpr"] <= 0.2


def test_no_lesions_gives_an_empty_map():
    sim = simulate(np.random.default_rng(3), n_lesions=0)
    lesions, belief = run(sim)
    assert not lesions.any()
    assert belief.max() < LesionParams().kappa


def test_invariant_to_the_intensity_scale(simulated):
    a, belief_a = run(simulated)
    b, belief_b = run(simulated, flair=simulated.flair * 7.3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(belief_a, belief_b, atol=1e-5)


def test_reproducible_for_the_same_seed():
    a = simulate(np.random.default_rng(5), n_lesions=4)
    b = simulate(np.random.default_rng(5), n_lesions=4)
    np.testing.assert_array_equal(run(a)[0], run(b)[0])


def test_belief_is_bounded_zero_outside_mask_and_in_csf(simulated):
    maps = belief_map(simulated.flair, simulated.mask, simulated.gm, simulated.wm,
                      simulated.csf, LesionParams(), voxel_size=simulated.voxel_size)  # fmt: skip
    belief, z, stats = maps.belief, maps.z, maps.stats
    assert belief.min() >= 0 and belief.max() <= 1
    assert not belief[~simulated.mask].any()
    # Conventional FLAIR: CSF dark, WM darker than GM, lesions bright.
    assert stats["CSF"].location < stats["WM"].location < stats["GM"].location
    assert np.median(z[simulated.truth]) > 4
    assert np.median(z[simulated.mask & (simulated.lesion_fraction == 0)]) < 1


def test_bias_correction_helps_under_a_strong_bias():
    # A 50% receive-bias ramp (the thresholds are relative contrasts on this low-noise image,
    # so a 30% ramp no longer needs the correction: Dice 0.92 either way).
    sim = simulate(np.random.default_rng(1), bias=0.5)
    corrected, _ = run(sim)
    uncorrected, _ = run(sim, LesionParams(bias_degree=0))
    assert dice(corrected, sim.truth) > dice(uncorrected, sim.truth)


def test_growth_needs_a_seed_and_respects_threshold_size_and_connectivity():
    belief = np.zeros((12, 12, 3), np.float32)
    belief[2, 2:6, 1] = [0.9, 0.3, 0.3, 0.1]  # seed + two growable voxels + one too low
    belief[8, 8:10, 1] = 0.3  # growable but no seed
    belief[5, 9, 1] = 0.9  # a seed alone
    belief[3, 5, 1] = 0.4  # diagonal neighbour of (2, 4): grows only with connectivity 2-3
    params = LesionParams(kappa=0.5, grow_threshold=0.2, boundary_fraction=0.0,
                          min_volume_mm3=0.0)  # fmt: skip
    candidates = np.ones(belief.shape, bool)
    grown = grow_lesions(belief, candidates, params)
    assert set(map(tuple, np.argwhere(grown))) == {(2, 2, 1), (2, 3, 1), (2, 4, 1), (5, 9, 1)}
    corner = grow_lesions(belief, candidates, LesionParams(
        kappa=0.5, grow_threshold=0.2, boundary_fraction=0.0, min_volume_mm3=0.0,
        connectivity=3))  # fmt: skip
    assert corner[3, 5, 1] and corner.sum() == 5
    big = grow_lesions(belief, candidates, LesionParams(
        kappa=0.5, grow_threshold=0.2, boundary_fraction=0.0, min_volume_mm3=2.5),
        voxel_size=(1.0, 1.0, 1.0))  # fmt: skip
    assert big.sum() == 3  # the single-voxel lesion is below 2.5 mm^3
    blocked = candidates.copy()
    blocked[2, 3, 1] = False  # e.g. a CSF voxel cuts the growth path
    assert grow_lesions(belief, blocked, params)[2, 4, 1] == 0


def test_boundary_fraction_trims_to_half_of_the_peak_contrast():
    belief = np.zeros((8, 3, 3), np.float32)
    z = np.zeros_like(belief)
    z[1:7, 1, 1] = [3.0, 5.0, 10.0, 6.0, 4.0, 2.5]
    belief[1:7, 1, 1] = 1.0
    params = LesionParams(kappa=0.5, grow_threshold=0.1, boundary_fraction=0.5,
                          min_volume_mm3=0.0)  # fmt: skip
    grown = grow_lesions(belief, np.ones(belief.shape, bool), params, z=z)
    np.testing.assert_array_equal(np.flatnonzero(grown[:, 1, 1]), [2, 3, 4])
    with pytest.raises(ValueError, match="z-score"):
        grow_lesions(belief, np.ones(belief.shape, bool), params)


def _inputs(sim):
    return dict(flair=sim.flair, mask=sim.mask, gm_prob=sim.gm, wm_prob=sim.wm,
                csf_prob=sim.csf)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.update(mask=d["mask"][:-1]), "mask has shape"),
        (lambda d: d.update(mask=np.zeros_like(d["mask"])), "mask is empty"),
        (lambda d: d.update(gm_prob=d["gm_prob"][..., :-1]), "GM probability map has shape"),
        (lambda d: d.update(wm_prob=d["wm_prob"] * 100), r"WM probability .* expected \[0, 1\]"),
        (lambda d: d.update(flair=np.where(d["mask"], 0.0, d["flair"] + 1)), "zero everywhere"),
        (lambda d: d.update(flair=np.where(d["mask"], np.nan, 0.0)), "NaN"),
        (lambda d: d.update(csf_prob=np.zeros_like(d["csf_prob"])), "CSF probability >= 0.9"),
        (lambda d: d.update(flair=d["flair"][0]), "3D"),
    ],
)
def test_bad_input_is_a_clear_error(simulated, change, match):
    inputs = _inputs(simulated)
    change(inputs)
    with pytest.raises(SynflairError, match=match):
        segment_lesions(**inputs, voxel_size=simulated.voxel_size)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kappa": 0.0}, "kappa must be in"),
        ({"kappa": 0.3, "grow_threshold": 0.4}, "grow_threshold must be in"),
        ({"z_low": 3.0, "z_high": 2.0}, "z_high must be"),
        ({"connectivity": 4}, "connectivity must be 1, 2 or 3"),
        ({"purity": 1.0}, "purity must be"),
        ({"min_volume_mm3": -1.0}, "min_volume_mm3"),
        ({"boundary_fraction": 1.0}, "boundary_fraction"),
        ({"bias_degree": float("nan")}, "bias_degree"),
        ({"bias_degree": 1.5}, "bias_degree must be an integer"),
        ({"ribbon_mm": -1.0}, "ribbon_mm must be"),
        ({"wm_shell_fraction": 1.5}, "wm_shell_fraction must be"),
    ],
)
def test_params_are_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LesionParams(**kwargs)


def test_override_replaces_the_automatic_mask():
    automatic = np.zeros((4, 4, 4), bool)
    automatic[1, 1, 1] = True
    supplied = np.zeros((4, 4, 4), np.uint8)
    supplied[2, 2, 2] = 1
    mask, source = apply_override(automatic, supplied)
    assert source == "override" and mask[2, 2, 2] and not mask[1, 1, 1]
    mask, source = apply_override(automatic, None)
    assert source == "automatic" and mask is not None and mask[1, 1, 1]
    with pytest.raises(SynflairError, match="override lesion mask has shape"):
        apply_override(automatic, supplied[:-1])
