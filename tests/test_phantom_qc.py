"""Phantom QC rows of the lesion segmentation (synflair.phantom_qc.lesion_rows)."""

import numpy as np
import pytest

from synflair.errors import SynflairError
from synflair.nifti import save
from synflair.phantom_qc import TruthFiles, lesion_rows

AFFINE = np.diag([1.25, 1.25, 5.0, 1.0])


def _truth(tmp_path, mdme, flair_fraction):
    save(mdme.astype(np.uint8), AFFINE, tmp_path / "sub-x_label-lesion_mask.nii.gz", dtype=np.uint8)
    save(flair_fraction, AFFINE, tmp_path / "sub-x_space-FLAIR_label-lesion_probseg.nii.gz")
    return TruthFiles(tmp_path, "x")


def _by_check(rows):
    return {row["check"]: row for row in rows}


def test_the_target_applies_to_the_lesions_the_flair_images(tmp_path):
    mdme = np.zeros((20, 20, 6), dtype=bool)
    mdme[5:9, 5:9, 2] = True  # 16 voxels
    # The moved head: the FLAIR's slices cut the lesion one slice higher.
    flair = np.zeros((20, 20, 6), dtype=np.float32)
    flair[5:9, 5:9, 3] = 1.0
    motion = np.eye(4)
    motion[2, 3] = 5.0  # x_flair = x_mdme + 5 mm: one slice up
    predicted = mdme.copy()
    predicted[5, 5:9, 2] = False  # 12 of the 16 voxels found
    rows = _by_check(lesion_rows(_truth(tmp_path, mdme, flair), predicted, AFFINE, motion))
    imaged = rows["lesion Dice vs lesions the FLAIR images"]
    assert imaged["value"] == pytest.approx(2 * 12 / (12 + 16))
    assert imaged["target"] == ">= 0.7" and imaged["passed"] is True
    assert rows["lesion Dice vs MDME-space lesion mask"]["value"] == pytest.approx(24 / 28)
    assert rows["lesion Dice vs MDME-space lesion mask"]["passed"] is None
    assert rows["lesion Dice, FLAIR-imaged vs MDME-space truth (ceiling)"]["value"] == 1.0
    assert rows["lesion-wise true positive rate vs lesions the FLAIR images"]["value"] == 1.0
    # Without the motion the FLAIR's lesion is a slice off: the imaged truth misses it.
    rows = _by_check(lesion_rows(_truth(tmp_path, mdme, flair), predicted, AFFINE, np.eye(4)))
    assert rows["lesion Dice vs lesions the FLAIR images"]["value"] == 0.0
    assert rows["lesion Dice vs lesions the FLAIR images"]["passed"] is False


def test_half_a_slice_of_motion_halves_what_the_flair_images(tmp_path):
    mdme = np.zeros((20, 20, 6), dtype=bool)
    mdme[5:9, 5:9, 2] = True
    flair = np.zeros((20, 20, 6), dtype=np.float32)
    flair[5:9, 5:9, 2:4] = 0.5  # a 4 mm lesion straddling two FLAIR slices
    motion = np.eye(4)
    motion[2, 3] = 2.5
    rows = _by_check(lesion_rows(_truth(tmp_path, mdme, flair), mdme, AFFINE, motion))
    # 0.5 at each FLAIR slice, sampled half-way: 0.5 -> just at the threshold.
    assert rows["lesion Dice, FLAIR-imaged vs MDME-space truth (ceiling)"]["value"] == 1.0
    flair[5:9, 5:9, 2:4] = 0.45
    rows = _by_check(lesion_rows(_truth(tmp_path, mdme, flair), mdme, AFFINE, motion))
    assert rows["lesion Dice, FLAIR-imaged vs MDME-space truth (ceiling)"]["value"] == 0.0


def test_missing_flair_space_truth_is_named(tmp_path):
    mdme = np.zeros((8, 8, 3), dtype=bool)
    save(mdme.astype(np.uint8), AFFINE, tmp_path / "sub-x_label-lesion_mask.nii.gz", dtype=np.uint8)
    with pytest.raises(SynflairError, match=r"space-FLAIR_label-lesion_probseg.*missing"):
        lesion_rows(TruthFiles(tmp_path, "x"), mdme, AFFINE, np.eye(4))
