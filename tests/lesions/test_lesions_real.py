"""The lesion segmentation on real MS data: patient19 of the open MS data set.

Data: Lesjak Z, et al. A novel public MR image dataset of multiple sclerosis
patients with lesion segmentations based on multi-rater consensus.
Neuroinformatics 2018;16:51-63 (doi:10.1007/s12021-017-9348-7), CC-BY; FLAIR,
T1 and the consensus lesion mask of one patient, 1 mm, MNI space,
skull-stripped, N4-corrected (``<clone>/../shared/data/open_ms_data``; the
tests skip when it is absent). One patient: the floors below are what the
defaults measured (docs/lesions.md), not parameters fitted to it.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from synflair.cli import main
from synflair.io.sidecar import sidecar_path
from synflair.lesions import lesion_detection
from synflair.lesions.brainmask import estimate_brain_mask
from synflair.metrics import dice
from synflair.nifti import save

DATA = Path(__file__).parents[2].parent / "shared" / "data" / "open_ms_data" / "patient19"
needs_data = pytest.mark.skipif(
    not (DATA / "FLAIR.nii.gz").exists(), reason=f"open MS data not found at {DATA}"
)


def _load(path):
    return np.asarray(nib.load(path).dataobj)


def _thick(volume, k=5):
    """Axial slabs of ``k`` 1 mm slices averaged: a 5 mm thick-slice acquisition."""
    z = volume.shape[2] - volume.shape[2] % k
    return volume[..., :z].reshape(*volume.shape[:2], z // k, k).mean(-1)


@needs_data
@pytest.mark.slow
def test_patient19_dice_and_detection_from_flair_and_t1_alone(tmp_path):
    out = tmp_path / "p19_lesions.nii.gz"
    argv = ["lesions", "--flair", str(DATA / "FLAIR.nii.gz"), "--t1", str(DATA / "T1.nii.gz"),
            "--backend", "ants", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    lesions = _load(out) > 0
    truth = _load(DATA / "GOLD_STANDARD.nii.gz") > 0
    score, found = dice(lesions, truth), lesion_detection(lesions, truth)
    print(f"patient19: Dice {score:.3f}; {found}")
    # Measured with the defaults: Dice 0.709, TPR 0.46 (45/98), FPR 0.41 (41/99), the same on
    # every run since Atropos is seeded (before: Dice 0.68-0.71, FPR 0.40-0.43 run to run).
    # The targets are Dice >= 0.55, TPR >= 0.6, FPR <= 0.5: TPR is not met, and local
    # contrast did not raise it (docs/lesions.md).
    assert score >= 0.65
    assert found["tpr"] >= 0.4
    assert found["fpr"] <= 0.5
    meta = json.loads(sidecar_path(out).read_text())
    assert meta["brain_mask"] == "estimated" and meta["tissue_maps"].startswith("segmented")
    belief = _load(meta["belief"])
    assert belief.shape == truth.shape and 0 <= belief.min() and belief.max() <= 1
    assert np.median(belief[truth]) > np.median(belief[~truth & (belief > 0)])


@needs_data
@pytest.mark.slow
def test_patient19_in_5mm_axial_slices(tmp_path):
    flair = nib.load(DATA / "FLAIR.nii.gz")
    affine = flair.affine.copy()
    affine[:3, 2] *= 5
    affine[:3, 3] += 2 * flair.affine[:3, 2]  # the slab centre
    paths = {}
    for name in ("FLAIR", "T1", "GOLD_STANDARD"):
        data = _thick(_load(DATA / f"{name}.nii.gz").astype(np.float32))
        paths[name] = save(data, affine, tmp_path / f"{name}.nii.gz")
    out = tmp_path / "lesions.nii.gz"
    assert main(["lesions", "--flair", str(paths["FLAIR"]), "--t1", str(paths["T1"]),
                 "--backend", "ants", "--out", str(out)]) == 0  # fmt: skip
    lesions = _load(out) > 0
    truth = _load(paths["GOLD_STANDARD"]) >= 0.5
    score, found = dice(lesions, truth), lesion_detection(lesions, truth)
    print(f"patient19, 5 mm slices: Dice {score:.3f}; {found}")
    # Measured: Dice 0.75, TPR 0.40 (26/65), FPR 0.53 (35/66): more false lesions than on
    # 1 mm slices (docs/lesions.md).
    assert score >= 0.65
    assert found["tpr"] >= 0.35


def _head(shape=(48, 48, 40)):
    """A ball of brain (WM core, GM rim), a dark skull shell and a bright scalp shell."""
    grid = np.indices(shape).astype(float)
    r = np.sqrt(sum((g - (s - 1) / 2) ** 2 for g, s in zip(grid, shape, strict=True)))
    t1 = np.where(r < 12, 220.0, 0.0)
    t1 = np.where((r >= 12) & (r < 15), 150.0, t1)
    t1 = np.where((r >= 15) & (r < 16), 40.0, t1)  # CSF
    t1 = np.where((r >= 16) & (r < 19), 10.0, t1)  # skull
    t1 = np.where((r >= 19) & (r < 22), 260.0, t1)  # scalp fat
    rng = np.random.default_rng(0)
    t1 = np.abs(t1 + rng.normal(0, 3, shape))  # magnitude noise, background included
    return t1, r


def test_brain_mask_of_an_input_with_skull_excludes_the_scalp():
    t1, r = _head()
    mask = estimate_brain_mask(t1, t1 * 0.3, (1.0, 1.0, 1.0))
    assert mask[r < 14].mean() > 0.99  # the brain
    assert not mask[r >= 19.5].any()  # no scalp


def test_brain_mask_of_a_skull_stripped_input_is_its_support():
    t1, r = _head()
    stripped = np.where(r < 16, t1, 0.0)  # zero outside the brain
    mask = estimate_brain_mask(stripped, stripped, (1.0, 1.0, 1.0))
    np.testing.assert_array_equal(mask, ndimage_fill(stripped != 0))


def ndimage_fill(mask):
    from scipy import ndimage

    return ndimage.binary_fill_holes(mask)


# Clear errors of the real-data path (small inputs, no segmentation run).


@pytest.fixture
def small(simulated, tmp_path):
    names = ("flair", "mask", "gm", "wm", "csf")
    return {
        n: save(getattr(simulated, n), simulated.affine, tmp_path / f"{n}.nii.gz") for n in names
    }


def test_flair_and_t1_on_different_grids_name_both_files(small, simulated, tmp_path, capsys):
    t1 = save(simulated.flair, np.diag([1.0, 1.0, 1.0, 1.0]), tmp_path / "t1_other.nii.gz")
    out = tmp_path / "lesions.nii.gz"
    assert (
        main(["lesions", "--flair", str(small["flair"]), "--t1", str(t1), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "t1_other.nii.gz" in err and "flair.nii.gz" in err
    assert "same grid" in err and "--transform" in err
    assert not out.exists()


def test_empty_brain_mask_is_refused(small, simulated, tmp_path, capsys):
    empty = save(np.zeros(simulated.mask.shape), simulated.affine, tmp_path / "empty.nii.gz")
    out = tmp_path / "lesions.nii.gz"
    argv = ["lesions", "--flair", str(small["flair"]), "--t1", str(small["flair"]),
            "--mask", str(empty), "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    assert "empty.nii.gz: the brain mask is empty" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("kind", ["uniform", "noise"])
def test_non_brain_image_is_refused(small, simulated, tmp_path, capsys, kind):
    rng = np.random.default_rng(0)
    data = np.full(simulated.flair.shape, 100.0)
    if kind == "noise":
        data = rng.normal(100.0, 10.0, simulated.flair.shape)
    flair = save(data.astype(np.float32), simulated.affine, tmp_path / f"{kind}.nii.gz")
    out = tmp_path / "lesions.nii.gz"
    argv = ["lesions", "--flair", str(flair), "--mask", str(small["mask"]), "--gm",
            str(small["gm"]), "--wm", str(small["wm"]), "--csf", str(small["csf"]),
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{kind}.nii.gz" in err and "no plausible" in err
    assert not out.exists()
