"""The lesion segmentation on the digital phantom's conventional FLAIR (slow: simulates a subject).

The FLAIR is the phantom's acquired conventional FLAIR, as the DICOM holds it
(head motion, receive bias, slice profile, k-space truncation, Rician noise),
on its own grid. The truth is the lesion fraction of the moved head as the
FLAIR's slices cut it (the phantom's ``space-FLAIR`` truth); the tissue
probabilities are the true fractions in that geometry with the lesion fraction
counted as WM. Registration and the estimated tissue maps are not part of this
test; the phantom QC of the workflow (``results/qc``) gives the figures through
the whole chain.
"""

import numpy as np
import pytest

from synflair.lesions import lesion_detection, segment_lesions
from synflair.metrics import dice

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def phantom_subject():
    phantom = pytest.importorskip("synflair.phantom.subject")
    from synflair.phantom import cohort
    from synflair.phantom.anatomy import load_template
    from synflair.phantom.output import truth_maps
    from synflair.phantom.presets import get_preset

    preset = get_preset("demo")
    template = load_template()
    rng = np.random.default_rng(cohort.subject_seed(0, "ph04"))
    params = phantom.draw_subject(rng, preset, template)
    images = phantom.simulate_subject(params, preset, template)
    return images, truth_maps(images, params)


def test_dice_and_detection_on_the_phantom_conventional_flair(phantom_subject):
    from synflair.phantom.output import intracranial_probseg

    images, truth = phantom_subject
    probseg, mask = intracranial_probseg(images.fractions_flair)
    wm = probseg["WM"] + probseg["lesion"]
    voxel = np.sqrt((images.affine[:3, :3] ** 2).sum(axis=0))
    lesions, _ = segment_lesions(images.flair, mask, probseg["GM"], wm, probseg["CSF"],
                                 voxel_size=voxel)  # fmt: skip
    true = truth["space-FLAIR_label-lesion_mask"] > 0
    assert np.array_equal(true, probseg["lesion"] >= 0.5)
    score = dice(lesions, true)
    found = lesion_detection(lesions, true)
    print(f"phantom demo ph04: Dice {score:.3f}; {found}")
    assert true.sum() > 50
    assert score >= 0.7
    assert found["tpr"] >= 0.8


def _t1w(fractions):
    """A spin-echo T1w (TR 500 ms, TE 10 ms) of the phantom's compartments, scalp included."""
    from synflair.phantom.tissues import COMPARTMENTS, REFERENCE

    signal = np.zeros(fractions.shape[1:])
    for fraction, name in zip(fractions, COMPARTMENTS, strict=True):
        r = REFERENCE[name]
        signal += fraction * r.pd * (1 - np.exp(-500.0 / r.t1)) * np.exp(-10.0 / r.t2)
    return signal


def test_input_with_skull_and_no_mask(phantom_subject):
    """The FLAIR and a T1w with scalp, skull and marrow; the brain mask estimated from them."""
    from synflair.lesions.brainmask import estimate_brain_mask
    from synflair.phantom.output import intracranial_probseg

    images, truth = phantom_subject
    probseg, true_mask = intracranial_probseg(images.fractions_flair)
    voxel = np.sqrt((images.affine[:3, :3] ** 2).sum(axis=0))
    t1w = _t1w(images.fractions_flair)
    rng = np.random.default_rng(1)
    t1w = np.abs(t1w + rng.normal(0, 0.01 * t1w.max(), t1w.shape))  # background noise
    mask = estimate_brain_mask(t1w, images.flair, voxel)
    overlap = dice(mask, true_mask)
    scalp = images.fractions_flair[4:].sum(axis=0) > 0.5  # fat, muscle, marrow
    wm = probseg["WM"] + probseg["lesion"]
    lesions, _ = segment_lesions(images.flair, mask, probseg["GM"] * mask, wm * mask,
                                 probseg["CSF"] * mask, voxel_size=voxel)  # fmt: skip
    true = truth["space-FLAIR_label-lesion_mask"] > 0
    score = dice(lesions, true)
    print(f"with skull: mask Dice {overlap:.3f}, scalp in mask {np.mean(mask[scalp]):.4f}; "
          f"lesion Dice {score:.3f}")  # fmt: skip
    assert overlap >= 0.9
    assert np.mean(mask[scalp]) < 0.01
    assert not lesions[scalp].any()
    assert score >= 0.5
