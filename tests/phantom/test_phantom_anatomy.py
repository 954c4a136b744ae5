"""The template head (synflair.phantom.anatomy)."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.phantom.anatomy import AnatomySettings, build_template, mni_paths


def test_mni_maps_come_from_the_nilearn_wheel():
    paths = mni_paths()
    assert set(paths) == {"t1", "gm", "wm"}
    assert all(p.is_file() and "nilearn" in str(p) for p in paths.values())


def test_template_fractions(template):
    assert np.all(template.wm >= 0) and np.all(template.gm >= 0)
    assert np.all(template.wm + template.gm <= template.icv + 1e-6)
    csf = template.csf
    assert np.all(csf >= 0)
    # Volumes (1 mm voxels) in litres: the MNI152 head is large (ICV ~1.9 L).
    icv, parenchyma = template.icv.sum() / 1e6, (template.wm + template.gm).sum() / 1e6
    assert 1.6 < icv < 2.2
    assert 0.10 < csf.sum() / 1e6 / icv < 0.25
    assert parenchyma / icv > 0.75


def test_template_regions_are_consistent(template):
    inside = template.icv_distance < 0
    assert np.all(template.icv[template.icv_distance > 1.5] == 0)
    assert np.all(template.icv[template.icv_distance < -1.5] > 0.99)
    ventricles = template.ventricles > 0.5
    assert ventricles.sum() > 10_000  # lateral ventricles and cisterns, > 10 mL
    assert np.all(inside[ventricles])
    assert np.all(template.csf[ventricles] >= 0.5 - 1e-6)
    for name in ("periventricular", "juxtacortical"):
        mask = getattr(template, name)
        assert mask.sum() > 10_000
        assert np.all(template.wm[mask] >= 0.5)
    assert not np.any(template.periventricular & template.juxtacortical)
    band = template.band
    length = np.linalg.norm(band.normal, axis=1)
    assert np.all((np.abs(length - 1) < 1e-3) | (length == 0))
    assert np.mean(length > 0) > 0.95


def _sphere_head(radius=20.0, shape=(64, 64, 64)):
    """A brain of WM inside a GM shell (radius mm), CSF-free, centred in the grid."""
    grid = np.indices(shape).astype(float) - (np.asarray(shape)[:, None, None, None] - 1) / 2
    r = np.sqrt((grid**2).sum(axis=0))
    t1 = (r <= radius).astype(float) * 100
    wm = (r <= radius - 4).astype(float)
    gm = ((r <= radius) & (r > radius - 4)).astype(float)
    return t1, gm, wm, np.eye(4), r


def test_build_template_on_a_sphere():
    t1, gm, wm, affine, _ = _sphere_head()
    settings = AnatomySettings(closing_mm=3.0, subarachnoid_mm=2.0, margin_mm=10)
    template = build_template(t1, gm, wm, affine, settings)
    # Cropped to the 40-voxel brain plus 10 voxels of margin on each side.
    assert template.shape == (60, 60, 60)
    assert np.allclose(template.affine[:3, 3], 2.0)
    # Along a ray from the centre: brain up to offset 19, 2 mm of CSF, then outside.
    center = np.array(template.shape) // 2
    profile = template.icv_distance[center[0], center[1], center[2] :]
    csf = template.csf[center[0], center[1], center[2] :]
    assert np.all(csf[:20] < 1e-6)
    assert csf[20] > 0.5
    boundary = int(np.argmax(profile > 0))
    assert boundary == 22
    assert profile[boundary - 1] == pytest.approx(-0.5)
    assert np.allclose(profile[boundary : boundary + 6], np.arange(6) + 0.5)
    assert np.all(np.diff(profile) > 0)


def test_build_template_rejects_bad_input():
    t1, gm, wm, affine, _ = _sphere_head(shape=(40, 40, 40), radius=10)
    with pytest.raises(ValueError, match="1 mm isotropic"):
        build_template(t1, gm, wm, np.diag([2.0, 2.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="one shape"):
        build_template(t1, gm[:-1], wm, affine)
    with pytest.raises(ValueError, match="nowhere > 0"):
        build_template(np.zeros_like(t1), gm, wm, affine)
    with pytest.raises(ValueError, match="closing_mm"):
        AnatomySettings(closing_mm=-1)


def test_sharpen_keeps_ends_and_the_midpoint():
    from synflair.phantom.anatomy import sharpen

    x = np.linspace(0, 1, 101, dtype=np.float32)
    y = sharpen(x, 0.1)
    assert (
        y[0] == pytest.approx(0.0, abs=1e-6)
        and y[-1] == pytest.approx(1.0)
        and y[50] == pytest.approx(0.5, abs=1e-6)
    )
    assert np.all(np.diff(y) >= 0)
    assert y[30] < 0.3 and y[70] > 0.7  # steeper about 0.5
    # A linear ramp's 10-90 % width shrinks 1.8-fold.
    assert np.count_nonzero((y > 0.1) & (y < 0.9)) < 0.6 * np.count_nonzero((x > 0.1) & (x < 0.9))
    assert np.array_equal(sharpen(x, 0.0), x)
    with pytest.raises(ValueError, match="sharpen"):
        AnatomySettings(sharpen=-0.1)
