"""The lesion segmentation on the digital phantom's conventional FLAIR (slow: simulates a subject).

The FLAIR is the phantom's noise-free conventional FLAIR in MDME space (receive
bias, slice profile, k-space truncation) with Rician noise at the level of the
phantom's acquired FLAIR; the tissue probabilities are the phantom's true
fractions with the lesion fraction counted as WM (as Atropos labels the
phantom's lesions on synthetic T1w). Registration blur is not part of this
test; the report gives the figures through the whole chain.
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
    images, truth = phantom_subject
    clean = images.flair_noisefree
    background = images.flair[:8, :8]  # air: Rayleigh-distributed magnitude noise
    sigma = float(np.sqrt(np.mean(background.astype(float) ** 2) / 2))
    rng = np.random.default_rng(1)
    flair = np.hypot(clean + rng.normal(0, sigma, clean.shape), rng.normal(0, sigma, clean.shape))
    mask = truth["label-intracranial_mask"] > 0
    wm = truth["label-WM_probseg"] + truth["label-lesion_probseg"]
    voxel = np.sqrt((images.affine[:3, :3] ** 2).sum(axis=0))
    lesions, _ = segment_lesions(flair, mask, truth["label-GM_probseg"], wm,
                                 truth["label-CSF_probseg"], voxel_size=voxel)  # fmt: skip
    true = truth["label-lesion_mask"] > 0
    score = dice(lesions, true)
    found = lesion_detection(lesions, true)
    print(f"phantom demo ph04: Dice {score:.3f}; {found}")
    assert true.sum() > 50
    assert score >= 0.7
    assert found["tpr"] >= 0.8
