"""Unit tests of the new steps: the lesion-robust reference, the anatomy rule, T1 growth."""

from __future__ import annotations

import numpy as np
import pytest
from lesion_sim import simulate

from synflair.errors import SynflairError
from synflair.lesions import (
    LesionParams,
    grow_lesions,
    lesion_detection,
    segment,
    segment_lesions,
)
from synflair.lesions.anatomy import outer_csf_distance, shell_fraction, ventricles
from synflair.lesions.reference import (
    check_brain_contrast,
    intensity_reference,
    lower_half_sd,
)
from synflair.metrics import dice


def test_lower_half_sd_ignores_a_bright_tail():
    rng = np.random.default_rng(0)
    normal = rng.normal(100.0, 5.0, 20000)
    lesions = rng.normal(140.0, 5.0, 8000)  # 29% of the voxels, all bright
    assert lower_half_sd(normal, 100.0) == pytest.approx(5.0, rel=0.05)
    assert lower_half_sd(np.concatenate([normal, lesions]), 100.0) == pytest.approx(5.0, rel=0.05)


def test_reference_ceiling_is_the_brighter_tissue_and_refuses_no_contrast():
    rng = np.random.default_rng(1)
    flair = np.concatenate([rng.normal(110, 4, 1000), rng.normal(100, 4, 1000),
                            rng.normal(20, 4, 1000)])  # fmt: skip
    pure = [np.arange(3000) // 1000 == k for k in range(3)]  # GM, WM, CSF
    ref = intensity_reference(flair, pure)
    assert ref.ceiling == pytest.approx(110, abs=0.5) and ref.wm_location == pytest.approx(
        100, abs=0.5
    )
    check_brain_contrast(ref)
    noise = rng.normal(100, 4, 3000)  # "CSF" as bright as WM: no brain structure
    with pytest.raises(SynflairError, match="no plausible"):
        check_brain_contrast(intensity_reference(noise, pure))


def _brain_with_ventricle_and_sulcus(shape=(60, 60, 40)):
    """A ball of WM with a deep central ventricle and a thin sulcus cut from the surface."""
    grid = np.indices(shape).astype(float)
    centre = (np.array(shape) - 1) / 2
    r = np.sqrt(sum((g - c) ** 2 for g, c in zip(grid, centre, strict=True)))
    mask = r < 27
    ventricle = np.sqrt((grid[0] - centre[0]) ** 2 + (grid[1] - centre[1]) ** 2 / 4
                        + (grid[2] - centre[2]) ** 2) < 6  # fmt: skip
    sulcus = (np.abs(grid[0] - centre[0]) < 1) & (grid[1] > centre[1] + 12) & mask
    csf = (ventricle | sulcus).astype(float)
    return mask, csf, r, grid


def test_ventricles_are_deep_thick_csf_and_sulci_are_outer():
    mask, csf, r, _ = _brain_with_ventricle_and_sulcus()
    inner = ventricles(csf > 0.5, mask, (1.0, 1.0, 1.0))
    assert inner[(csf > 0.5) & (r < 5)].all()  # the ventricle
    sulcus = (csf > 0.5) & (r > 14)
    assert not inner[sulcus].any()
    distance, _ = outer_csf_distance(csf, mask, (1.0, 1.0, 1.0))
    assert np.all(distance[sulcus] == 0) and np.all(distance[~mask] == 0)
    beside_ventricle = (r > 7) & (r < 9) & (csf == 0)
    assert distance[beside_ventricle].min() > 5  # periventricular WM is not in the ribbon


def test_shell_fraction_counts_the_surroundings():
    labels = np.zeros((20, 20, 20), int)
    labels[5:8, 5:8, 5:8] = 1
    labels[13:16, 13:16, 13:16] = 2
    tissue = np.zeros(labels.shape, bool)
    tissue[:10] = True  # component 1 is surrounded by tissue, component 2 is not
    mask = np.ones(labels.shape, bool)
    fraction = shell_fraction(labels, 2, tissue, mask, (1.0, 1.0, 1.0), 2.0)
    assert fraction[1] == 1.0 and fraction[2] == 0.0


def test_anatomy_rule_removes_cortical_false_positives_of_sharp_posteriors():
    # Posteriors sharpened to hard labels and permissive thresholds: without the rule,
    # bright cortex next to sulci seeds lesions.
    sim = simulate(np.random.default_rng(0), posterior_power=50.0, where="juxtacortical")
    loose = {"kappa": 0.4, "min_mean_z": 0.5}
    args = (sim.flair, sim.mask, sim.gm, sim.wm, sim.csf)
    found = segment_lesions(*args, LesionParams(**loose), voxel_size=sim.voxel_size)[0]
    with_rule = lesion_detection(found, sim.truth)
    without = lesion_detection(segment_lesions(*args, LesionParams(
        ribbon_mm=0.0, wm_shell_fraction=0.0, **loose), voxel_size=sim.voxel_size)[0],
        sim.truth)  # fmt: skip
    print(with_rule, without)
    assert with_rule["false_positives"] < without["false_positives"]
    assert with_rule["tpr"] >= 0.9


def test_t1_hypointense_lesions_labelled_gm_are_found_and_grown():
    # The T1/R1 segmentation calls the lesions GM (lesion_as="GM"): found as if labelled WM.
    as_gm = simulate(np.random.default_rng(4), lesion_as="GM")
    as_wm = simulate(np.random.default_rng(4), lesion_as="WM")
    score = {}
    for name, sim in (("GM", as_gm), ("WM", as_wm)):
        result = segment(sim.flair, sim.mask, sim.gm, sim.wm, sim.csf, voxel_size=sim.voxel_size)
        score[name] = dice(result.lesions, sim.truth)
        assert lesion_detection(result.lesions, sim.truth)["tpr"] >= 0.9
    assert score["GM"] >= 0.7 and abs(score["GM"] - score["WM"]) < 0.1


def test_growth_enters_growable_t1_hypointense_voxels_only_from_a_seed():
    belief = np.zeros((10, 3, 3), np.float32)
    belief[2, 1, 1] = 0.9  # seed
    belief[3:5, 1, 1] = 0.02  # below grow_threshold, T1-hypointense and bright enough
    belief[7, 1, 1] = 0.02  # the same, but no seed next to it
    growable = belief > 0.01
    growable[2, 1, 1] = False
    params = LesionParams(boundary_fraction=0.0, min_volume_mm3=0.0)
    plain = grow_lesions(belief, np.ones(belief.shape, bool), params)
    grown = grow_lesions(belief, np.ones(belief.shape, bool), params, growable=growable)
    assert np.flatnonzero(plain[:, 1, 1]).tolist() == [2]
    assert np.flatnonzero(grown[:, 1, 1]).tolist() == [2, 3, 4]


def test_a_synthetic_flair_with_half_unsuppressed_csf_is_a_brain():
    """Synthetic FLAIR (demo phantom ph11): pure CSF median above WM, ventricles dark."""
    rng = np.random.default_rng(3)
    wm = rng.normal(17.2, 0.7, 5000)
    gm = rng.normal(23.9, 1.5, 3000)
    csf = np.concatenate([rng.normal(4.0, 2.0, 700), rng.normal(22.0, 3.0, 1300)])
    flair = np.concatenate([gm, wm, csf])
    pure = [np.zeros(flair.size, bool) for _ in range(3)]
    pure[0][:3000], pure[1][3000:8000], pure[2][8000:] = True, True, True
    reference = intensity_reference(flair, pure)
    assert reference.tissues["CSF"].location > reference.wm_location  # the median says "no"
    check_brain_contrast(reference)  # the dark quarter says "brain"
    noise = rng.normal(17.2, 0.7, flair.size)
    with pytest.raises(SynflairError, match="darkest quarter of CSF"):
        check_brain_contrast(intensity_reference(noise, pure))
