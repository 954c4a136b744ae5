"""One subject: random draws and deterministic simulation (synflair.phantom.subject)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from synflair.phantom.deformation import Pose
from synflair.phantom.subject import STREAMS, draw_subject, simulate_subject
from synflair.phantom.tissues import COMPARTMENTS, INTRACRANIAL
from synflair.physics import MDME_PAPER


def test_draws_are_reproducible(template, tiny):
    a = draw_subject(np.random.default_rng(3), tiny, template)
    b = draw_subject(np.random.default_rng(3), tiny, template)
    c = draw_subject(np.random.default_rng(4), tiny, template)
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.name == "deformation":
            assert np.array_equal(x.field, y.field)
        else:
            assert x == y, field.name
    assert a.pose != c.pose and a.tissues != c.tissues
    assert len(STREAMS) == len(set(STREAMS))


def test_flair_has_its_own_receive_field(template, tiny, tiny_subject):
    params, images = tiny_subject
    assert params.flair_bias != params.bias
    # Only the MDME series carries the receive-array gain.
    assert min(tiny.model.coil_gain) > 0
    assert params.bias.coefficients[4] > params.flair_bias.coefficients[4]
    same = dataclasses.replace(params, flair_bias=params.bias)
    other = simulate_subject(same, tiny, template)
    assert np.array_equal(other.mdme, images.mdme)
    assert not np.allclose(other.flair_noisefree, images.flair_noisefree)


def test_lesions_lie_in_the_imaged_slab(template, tiny):
    params = draw_subject(np.random.default_rng(5), tiny, template)
    g = tiny.geometry
    half = 0.5 * ((g.n_slices - 1) * g.slice_step + g.slice_thickness)
    for lesion in params.lesions:
        z = (params.pose.matrix() @ np.append(lesion.center_mni, 1))[2]
        assert abs(z - g.center_mni[2]) <= half + 0.9  # centres jitter within their voxel


def test_simulation_is_deterministic(template, tiny, tiny_subject):
    params, images = tiny_subject
    again = simulate_subject(params, tiny, template)
    names = ("mdme", "flair", "fractions", "fractions_flair", "b1", "flair_noisefree", "affine")
    for name in names:
        assert np.array_equal(getattr(images, name), getattr(again, name)), name


def test_shapes_and_fractions(tiny, tiny_subject):
    _, images = tiny_subject
    shape = (48, 48, 3)
    assert images.mdme.shape == (*shape, 8) and images.mdme.dtype == np.complex64
    assert images.flair.shape == shape and np.all(images.flair >= 0)
    fractions = images.fractions
    assert fractions.shape == (len(COMPARTMENTS), *shape)
    assert np.all(fractions >= -1e-6) and np.all(fractions.sum(axis=0) <= 1 + 1e-5)
    intracranial = fractions[: len(INTRACRANIAL)].sum(axis=0)
    assert intracranial.max() > 0.99 and (intracranial > 0.5).mean() > 0.2
    # Skull and scalp around the brain: fat and muscle outside, none deep inside.
    extracranial = fractions[len(INTRACRANIAL) :].sum(axis=0)
    assert extracranial.max() > 0.5
    assert np.all(extracranial[intracranial > 0.99] < 0.01)
    assert 0.85 - 1e-6 <= images.b1[intracranial > 0.5].min() <= images.b1.max() <= 1.15 + 1e-6


def _phase_corrected(params, images, volume):
    """Real part of an MDME volume after removing the known background phase."""
    from synflair.phantom.acquisition import plane_points

    echo = volume % len(MDME_PAPER.te)
    out = np.empty(images.mdme.shape[:3], dtype=np.float32)
    for k in range(out.shape[2]):
        points = plane_points(images.affine, out.shape[:2], k)
        phase = params.phase(points, echo)
        out[:, :, k] = (images.mdme[:, :, k, volume] * np.exp(-1j * phase)).real
    return out


def test_mdme_is_negative_in_csf_at_short_delays(tiny_subject):
    params, images = tiny_subject
    csf = images.fractions[COMPARTMENTS.index("CSF")] >= 0.9
    wm = images.fractions[COMPARTMENTS.index("WM")] >= 0.9
    assert csf.sum() > 10 and wm.sum() > 50
    td1, td2, td4 = (_phase_corrected(params, images, v) for v in (0, 2, 6))
    assert np.median(td1[csf]) < 0 and np.median(td2[csf]) < 0
    assert np.median(td2[wm]) > 0  # WM (T1 ~830 ms) has recovered past zero at TD2 = 546 ms
    assert np.median(td4[csf]) > 0
    # The background phase is real: without correction the real part is not the signal.
    assert not np.allclose(images.mdme[..., 6].real, td4, atol=0.05)


def test_flow_perturbs_csf_only_in_mdme(template, tiny, tiny_subject):
    params, images = tiny_subject
    still = dataclasses.replace(params, flow=dataclasses.replace(params.flow, fraction=0.0))
    calm = simulate_subject(still, tiny, template)
    difference = np.abs(images.mdme - calm.mdme).max(axis=-1)
    csf = images.fractions[COMPARTMENTS.index("CSF")] >= 0.8
    wm = images.fractions[COMPARTMENTS.index("WM")] >= 0.9
    assert csf.sum() > 10 and wm.sum() > 50
    assert difference[csf].mean() > 3 * difference[wm].mean()
    assert np.array_equal(images.flair, calm.flair)
    assert np.array_equal(images.flair_noisefree, calm.flair_noisefree)


def _resample(volume, affine, matrix):
    """``volume`` seen through the world map ``x -> matrix @ x`` (linear, on the same grid)."""
    inverse = np.linalg.inv(affine) @ np.linalg.inv(matrix) @ affine
    return ndimage.affine_transform(volume, inverse, order=1, mode="nearest")


def test_flair_shows_the_recorded_motion(template, tiny, tiny_subject):
    params, _ = tiny_subject
    moved = dataclasses.replace(params, motion=Pose((0.0, 0.0, 8.0), (6.0, -4.0, 0.0)))
    images = simulate_subject(moved, tiny, template)
    m = moved.motion_matrix()
    truth, flair = images.flair_noisefree, images.flair
    middle = (slice(None), slice(None), 1)
    scores = {}
    for name, matrix in (("motion", m), ("none", np.eye(4)), ("inverse", np.linalg.inv(m))):
        predicted = _resample(truth, images.affine, matrix)[middle]
        scores[name] = np.corrcoef(predicted.ravel(), flair[middle].ravel())[0, 1]
    assert scores["motion"] > 0.97
    assert scores["motion"] > scores["none"] + 0.02 and scores["motion"] > scores["inverse"] + 0.02
    # The FLAIR-space fractions are the MDME-space ones moved by the same motion.
    wm = COMPARTMENTS.index("WM")
    moved_wm = _resample(images.fractions[wm], images.affine, m)[middle]
    flair_wm = images.fractions_flair[wm][middle]
    assert np.corrcoef(moved_wm.ravel(), flair_wm.ravel())[0, 1] > 0.95
    assert np.corrcoef(images.fractions[wm][middle].ravel(), flair_wm.ravel())[0, 1] < 0.9
    # Without motion the FLAIR is the noise-free truth plus noise.
    still = dataclasses.replace(params, motion=Pose())
    calm = simulate_subject(still, tiny, template)
    assert np.corrcoef(calm.flair.ravel(), calm.flair_noisefree.ravel())[0, 1] > 0.99
    np.testing.assert_allclose(calm.fractions_flair, calm.fractions, atol=1e-6)
    assert np.allclose(still.motion_matrix(), np.eye(4))


def test_noise_is_at_the_preset_level(template, tiny, tiny_subject):
    params, images = tiny_subject
    quiet = dataclasses.replace(params, noise_seed=params.noise_seed)
    from synflair.phantom.presets import PhantomPreset

    silent = PhantomPreset(
        "silent", tiny.geometry, 2, dataclasses.replace(tiny.model, mdme_noise=0.0, flair_noise=0.0)
    )
    clean = simulate_subject(quiet, silent, template)
    noise = images.mdme - clean.mdme
    assert noise.real.std() == pytest.approx(tiny.noise_sigma("mdme"), rel=0.1)
    assert np.array_equal(clean.flair_noisefree, images.flair_noisefree)
