"""The quantification, mask and CSF suppression on one subject of the digital phantom (ci preset).

Slow (the MNI template and the subject are simulated in memory, ~30 s).
``bench/bench_quantify.py --phantom {ci,demo,paper}`` prints the same figures
for the larger presets.
"""

import numpy as np
import pytest

from synflair.phantom.acquisition import signal_purity
from synflair.phantom.tissues import COMPARTMENTS
from synflair.physics import MDME_PAPER
from synflair.preprocess import csf_suppress
from synflair.quantify.mask import intracranial_mask
from synflair.quantify.model import FitSettings, MDMEModel
from synflair.quantify.synthetic import synthetic_flair

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def subject():
    from synflair.phantom import cohort
    from synflair.phantom.anatomy import load_template
    from synflair.phantom.presets import get_preset
    from synflair.phantom.subject import draw_subject, simulate_subject

    preset = get_preset("ci")
    template = load_template()
    rng = np.random.default_rng(cohort.subject_seed(0, "ph01"))
    params = draw_subject(rng, preset, template)
    images = simulate_subject(params, preset, template)
    truth = dict(zip(COMPARTMENTS, zip(*params.tissues.arrays(), strict=True), strict=True))
    fractions = dict(zip(COMPARTMENTS, images.fractions, strict=True))
    zooms = np.sqrt((images.affine[:3, :3] ** 2).sum(axis=0))
    purity = dict(
        zip(COMPARTMENTS, signal_purity(images.fractions, preset.geometry.mdme_matrix), strict=True)
    )
    return images, truth, fractions, zooms, purity


@pytest.mark.parametrize("tissue, minimum", [("WM", 300), ("GM", 30)])
def test_accuracy_on_pure_tissue(subject, tissue, minimum):
    # "Pure" = the voxel is >= 95 % the tissue and >= 95 % of its signal comes from it
    # through the acquisition's point-spread function (the ci preset's 64 x 64 matrix
    # blurs 3.75 mm, so box-pure voxels still carry 2-4 % of neighbouring tissue signal).
    images, truth, fractions, zooms, purity = subject
    data = np.abs(images.mdme)
    fit = MDMEModel(MDME_PAPER, settings=FitSettings(b1_smoothing_mm=10.0)).fit(
        data, voxel_size=zooms
    )
    pure = (fractions[tissue] >= 0.95) & (purity[tissue] >= 0.95) & fit.valid
    assert pure.sum() > minimum
    t1, t2, _ = truth[tissue]
    assert np.median(np.abs(fit.t1[pure] / t1 - 1)) <= 0.03
    assert np.median(np.abs(fit.t2[pure] / t2 - 1)) <= 0.03
    assert np.median(np.abs(fit.b1 - images.b1)[pure]) <= 0.03
    assert np.all(np.isfinite(fit.pd)) and np.all(fit.pd[~fit.valid] == 0)


def test_signal_purity_of_box_pure_voxels_is_lower(subject):
    # The purity criterion is stricter than the box fractions, never looser.
    _, _, fractions, _, purity = subject
    box_pure = fractions["WM"] >= 0.95
    assert np.mean(purity["WM"][box_pure] >= 0.95) < 0.6
    assert np.all(purity["WM"] <= 1.0 + 1e-5)


def test_mask_and_csf_suppression(subject):
    images, _, fractions, zooms, _ = subject
    data = np.abs(images.mdme)
    fit = MDMEModel(MDME_PAPER).fit(data)
    icv = sum(fractions[c] for c in ("WM", "GM", "CSF", "lesion")) >= 0.5
    mask = intracranial_mask(fit.t1, fit.t2, fit.pd, fit.valid, voxel_size=zooms)
    assert 2 * np.sum(mask & icv) / (mask.sum() + icv.sum()) >= 0.95

    flair = synthetic_flair(fit.t1, fit.t2, fit.pd, fit.valid)
    _, suppressed = csf_suppress(flair, data)
    pure = {name: fractions[name] >= 0.95 for name in ("CSF", "GM", "WM")}
    assert pure["CSF"].sum() > 50
    assert suppressed[pure["CSF"]].mean() >= 0.9
    assert suppressed[pure["GM"] | pure["WM"]].mean() <= 0.02
    # the bright rims: CSF/GM voxels that are mostly CSF are suppressed, mostly GM are not
    mixed = fractions["CSF"] + fractions["GM"] > 0.95
    assert suppressed[mixed & (fractions["CSF"] > 0.6)].mean() > 0.8
    assert suppressed[mixed & (fractions["CSF"] < 0.2)].mean() < 0.05
