"""Atrophy (synflair.phantom.atrophy) and lesions (synflair.phantom.lesions)."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.phantom.atrophy import Atrophy, apply_atrophy, draw_atrophy
from synflair.phantom.lesions import Lesion, draw_lesions, render_composition, render_lesions


def test_zero_atrophy_is_identity(template):
    wm, gm = apply_atrophy(template, Atrophy(0.0, 0.0))
    assert np.array_equal(wm, template.wm) and np.array_equal(gm, template.gm)
    assert wm is not template.wm


def test_atrophy_grows_csf_monotonically_and_keeps_the_icv(template):
    csf = []
    for amount in (0.0, 1.0, 2.0):
        wm, gm = apply_atrophy(template, Atrophy(amount, amount))
        assert np.all(wm >= 0) and np.all(gm >= 0)
        assert np.all(wm + gm <= template.icv + 1e-6)
        csf.append(float((template.icv - wm - gm).sum()))
    assert csf[0] < csf[1] < csf[2]
    # Roughly: surface area (~2000 cm² of pial and ventricular surface in a 1 mm template)
    # times the retreat; 1 mm adds tens of millilitres of CSF.
    assert 20_000 < csf[1] - csf[0] < 400_000


def test_ventricular_atrophy_widens_the_ventricles(template):
    near = np.zeros(template.shape, dtype=bool)
    near.ravel()[template.band.index[template.band.ventricular]] = True
    base = template.icv - template.wm - template.gm
    wm, gm = apply_atrophy(template, Atrophy(0.0, 2.0))
    grown = (template.icv - wm - gm) - base
    assert grown[near].sum() > 5_000  # mL-scale ventricular enlargement
    assert abs(grown[~near].sum()) < 0.05 * grown[near].sum()


def test_draw_atrophy_ranges():
    rng = np.random.default_rng(0)
    draws = [draw_atrophy(rng, (0.3, 1.6), (0.3, 2.5)) for _ in range(100)]
    sulcal = np.array([d.sulcal_mm for d in draws])
    ventricular = np.array([d.ventricular_mm for d in draws])
    assert sulcal.min() >= 0.3 and sulcal.max() <= 1.6
    assert ventricular.min() >= 0.3 and ventricular.max() <= 2.5
    assert np.corrcoef(sulcal, ventricular)[0, 1] > 0.7  # one severity drives both
    with pytest.raises(ValueError, match="sulcal_mm"):
        Atrophy(sulcal_mm=-1.0)


def _wm_point(template):
    """World position of a periventricular candidate voxel."""
    index = np.argwhere(template.periventricular)[len(np.argwhere(template.periventricular)) // 2]
    return template.affine[:3, :3] @ index + template.affine[:3, 3]


def test_render_lesion_volume_matches_the_ellipsoid(template):
    center = _wm_point(template)
    lesion = Lesion(tuple(center), (4.0, 3.0, 2.5), (10.0, 20.0, 30.0), "periventricular")
    ones = np.ones(template.shape, dtype=np.float32)
    rendered = render_lesions([lesion], template, ones)
    assert rendered.sum() == pytest.approx(lesion.volume_mm3, rel=0.08)
    assert rendered.max() == 1.0
    # Limited by the white matter it replaces.
    limited = render_lesions([lesion], template, template.wm)
    assert np.all(limited <= template.wm + 1e-7)
    assert render_lesions([], template, ones).sum() == 0


def test_draw_lesions(template):
    rng = np.random.default_rng(4)
    counts = []
    for _ in range(20):
        lesions = draw_lesions(rng, template, 30)
        counts.append(len(lesions))
        for item in lesions:
            index = np.linalg.solve(template.affine, np.append(item.center_mni, 1))[:3]
            voxel = tuple(np.round(index).astype(int))
            assert getattr(template, item.kind)[voxel]
            assert 0.5 < (np.prod(item.radii_mm) ** (1 / 3)) < 7
    assert min(counts) >= 0 and max(counts) <= 30 and len(set(counts)) > 5
    assert draw_lesions(rng, template, 0) == ()
    a = draw_lesions(np.random.default_rng(9), template, 30)
    assert a == draw_lesions(np.random.default_rng(9), template, 30)


def test_draw_lesions_respects_the_allowed_region(template):
    allowed = np.zeros(template.shape, dtype=bool)
    allowed[:, :, 100:110] = True
    lesions = draw_lesions(np.random.default_rng(2), template, 30, allowed)
    for item in lesions:
        k = np.linalg.solve(template.affine, np.append(item.center_mni, 1))[2]
        assert 99.5 <= k <= 110.5
    assert draw_lesions(np.random.default_rng(2), template, 30, np.zeros_like(allowed)) == ()
    with pytest.raises(ValueError, match="kind"):
        Lesion((0, 0, 0), (1, 1, 1), (0, 0, 0), "cortical")


def _radius_index(template, lesion, rendered):
    """Ellipsoidal radius of every template voxel of ``lesion`` (nan outside its bounding box)."""
    from synflair.phantom.deformation import rotation_matrix

    index = np.indices(template.shape).reshape(3, -1).T
    world = index @ template.affine[:3, :3].T + template.affine[:3, 3]
    local = (world - np.asarray(lesion.center_mni)) @ rotation_matrix(lesion.rotation_deg)
    return np.sqrt(np.sum((local / np.asarray(lesion.radii_mm)) ** 2, axis=-1)).reshape(
        rendered.shape
    )


def test_a_uniform_lesion_has_no_normal_or_fluid_part(template):
    lesion = Lesion(
        tuple(_wm_point(template)), (4.0, 3.0, 2.5), (10.0, 20.0, 30.0), "periventricular"
    )
    ones = np.ones(template.shape, dtype=np.float32)
    fraction, normal, fluid = render_composition([lesion], template, ones)
    assert np.array_equal(fraction, render_lesions([lesion], template, ones))
    assert normal.max() == 0 and fluid.max() == 0


def test_composition_has_a_bright_core_and_a_fluid_black_hole_centre(template):
    center = tuple(_wm_point(template))
    lesion = Lesion(center, (5.0, 4.0, 4.0), (0.0, 0.0, 0.0), "periventricular", 0.8, 0.5, 0.6)
    ones = np.ones(template.shape, dtype=np.float32)
    fraction, normal, fluid = render_composition([lesion], template, ones)
    assert np.all(normal + fluid <= fraction + 1e-6) and np.all(normal >= 0) and np.all(fluid >= 0)
    rho = _radius_index(template, lesion, fraction)
    full = fraction == 1
    core, rim = full & (rho < 0.3), full & (rho > 0.8)
    assert core.any() and rim.any()
    # Fluid share: 0.6 (1 - rho^2) -> near 0.6 at the centre, < 0.22 at the rim.
    assert np.all(fluid[core] > 0.6 * (1 - 0.3**2) - 1e-6) and np.all(fluid[rim] < 0.22)
    # Abnormal share: 0.8 (1 - 0.5 rho^2) of the non-fluid part, larger in the core.
    abnormal = (fraction - normal - fluid) / np.maximum(
        1 - fluid / np.maximum(fraction, 1e-6), 1e-6
    )
    assert abnormal[core].min() > 0.8 * (1 - 0.5 * 0.3**2) - 1e-4
    assert abnormal[rim].max() < 0.8 * (1 - 0.5 * 0.8**2) + 1e-4
    # The pools follow the (WM-limited) fraction.
    half = render_composition([lesion], template, 0.5 * ones)
    share = normal / np.maximum(fraction, 1e-6)
    assert np.allclose(half[1], np.minimum(fraction, 0.5) * share, atol=1e-6)


def test_draw_lesions_composition(template):
    base = draw_lesions(np.random.default_rng(6), template, 30)
    drawn = []
    for seed in range(6):
        drawn += draw_lesions(
            np.random.default_rng(seed),
            template,
            30,
            severity=(0.6, 0.9),
            edge=0.7,
            black_hole_fraction=0.25,
            fluid=(0.2, 0.5),
        )
    severity = np.array([item.severity for item in drawn])
    fluid = np.array([item.fluid for item in drawn])
    assert severity.min() >= 0.6 and severity.max() <= 0.9 and np.ptp(severity) > 0.2
    assert all(item.edge == 0.7 for item in drawn)
    holes = fluid > 0
    assert 0.1 < holes.mean() < 0.4 and fluid[holes].min() >= 0.2 and fluid[holes].max() <= 0.5
    # The composition is drawn after the geometry, which it leaves unchanged.
    again = draw_lesions(np.random.default_rng(6), template, 30, black_hole_fraction=1.0)
    assert [i.center_mni for i in again] == [i.center_mni for i in base]
    assert [i.radii_mm for i in again] == [i.radii_mm for i in base]
    assert all(i.black_hole for i in again) and not any(i.black_hole for i in base)


@pytest.mark.parametrize(
    "field, value", [("severity", 0.0), ("severity", 1.2), ("edge", -0.1), ("fluid", 1.0)]
)
def test_lesion_composition_is_validated(field, value):
    with pytest.raises(ValueError, match=field):
        Lesion((0, 0, 0), (1, 1, 1), (0, 0, 0), "juxtacortical", **{field: value})
