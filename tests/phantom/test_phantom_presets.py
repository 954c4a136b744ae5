"""Presets (synflair.phantom.presets)."""

from __future__ import annotations

import pytest

from synflair.phantom.presets import PRESETS, Geometry, ModelSettings, get_preset


def test_paper_preset_is_the_papers_protocol():
    paper = get_preset("paper")
    g = paper.geometry
    assert paper.n_subjects == 40
    assert (g.n_slices, g.slice_thickness, g.slice_gap, g.fov) == (30, 4.0, 1.0, 240.0)
    assert g.slice_step == 5.0
    assert g.recon_matrix == (512, 512)
    assert g.mdme_matrix == (320, 320)
    assert sorted(g.flair_matrix) == [224, 320]
    assert g.pixel_spacing == (240 / 512, 240 / 512)


def test_small_presets_are_smaller():
    for name in ("demo", "ci"):
        g = PRESETS[name].geometry
        assert g.recon_matrix[0] < 512 and g.n_slices < 30
        assert g.sim_matrix == tuple(n * g.oversample for n in g.recon_matrix)
    assert PRESETS["ci"].geometry.recon_matrix[0] < PRESETS["demo"].geometry.recon_matrix[0]


def test_noise_scales_with_voxel_size_and_samples():
    paper, ci = get_preset("paper"), get_preset("ci")
    assert paper.noise_sigma("mdme") == pytest.approx(paper.model.mdme_noise)
    assert paper.noise_sigma("flair") == pytest.approx(paper.model.flair_noise)
    # ci: 64x64 over the same FOV and thickness -> SNR up by sqrt(320*320 / (64*64)) = 5.
    assert ci.noise_sigma("mdme") == pytest.approx(paper.model.mdme_noise / 5)
    with pytest.raises(ValueError, match="series"):
        paper.noise_sigma("t1w")


def test_get_preset_overrides_and_errors():
    quiet = get_preset("ci", mdme_noise=0.0, flow_fraction=0.0)
    assert quiet.model.mdme_noise == 0.0 and quiet.model.flow_fraction == 0.0
    assert quiet.geometry == PRESETS["ci"].geometry
    with pytest.raises(ValueError, match="preset must be one of"):
        get_preset("huge")
    with pytest.raises(ValueError, match="unknown model settings"):
        get_preset("ci", snr=3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_slices": 0}, "n_slices"),
        ({"recon_matrix": (63, 64)}, "recon_matrix"),
        ({"mdme_matrix": (128, 128)}, "mdme_matrix must not exceed"),
        ({"slice_thickness": -4.0}, "slice_thickness"),
        ({"oversample": 0}, "oversample"),
    ],
)
def test_geometry_validation(kwargs, match):
    base = dict(
        n_slices=2,
        slice_thickness=4.0,
        slice_gap=1.0,
        fov=240.0,
        recon_matrix=(64, 64),
        mdme_matrix=(32, 32),
        flair_matrix=(32, 32),
    )
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        Geometry(**base)


def test_model_settings_validation():
    with pytest.raises(ValueError, match="mdme_noise"):
        ModelSettings(mdme_noise=-0.1)
    with pytest.raises(ValueError, match="scale_range"):
        ModelSettings(scale_range=(1.0, 0.9))
    with pytest.raises(ValueError, match="max_lesions"):
        ModelSettings(max_lesions=-1)


@pytest.mark.parametrize(
    "name, value",
    [
        ("lesion_severity", (0.0, 1.0)),
        ("lesion_severity", (0.5, 1.2)),
        ("lesion_severity", (0.9, 0.5)),
        ("lesion_edge", 1.5),
        ("black_hole_fraction", 2.0),
        ("black_hole_fraction", -0.1),
        ("black_hole_fluid", (0.2, 1.0)),
    ],
)
def test_lesion_settings_validation(name, value):
    with pytest.raises(ValueError, match=name):
        ModelSettings(**{name: value})
