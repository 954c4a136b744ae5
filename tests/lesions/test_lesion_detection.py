import numpy as np
import pytest

from synflair.errors import SynflairError
from synflair.lesions import label_lesions, lesion_detection


def blobs():
    truth = np.zeros((20, 20, 4), bool)
    truth[2:5, 2:5, 1] = True  # lesion A
    truth[10:12, 10:12, 1:3] = True  # lesion B
    truth[16, 16, 2] = True  # lesion C (one voxel)
    pred = np.zeros_like(truth)
    pred[3:6, 3:6, 1] = True  # overlaps A
    pred[11, 11, 2] = True  # inside B
    pred[7, 15, 0] = True  # false positive
    pred[0:2, 18:20, 3] = True  # false positive
    return pred, truth


def test_counts_and_rates():
    pred, truth = blobs()
    found = lesion_detection(pred, truth)
    assert (found["n_true"], found["n_pred"]) == (3, 4)
    assert found["true_positives"] == 2 and found["false_negatives"] == 1
    assert found["false_positives"] == 2
    assert found["tpr"] == pytest.approx(2 / 3)
    assert found["fpr"] == pytest.approx(2 / 4)
    assert found["note"] == ""


def test_perfect_prediction_and_min_overlap():
    _, truth = blobs()
    found = lesion_detection(truth, truth)
    assert found["tpr"] == 1.0 and found["fpr"] == 0.0
    pred, truth = blobs()
    strict = lesion_detection(pred, truth, min_overlap=2)
    assert strict["true_positives"] == 1  # B shares a single voxel only


def test_empty_masks_give_nan_rates_with_reasons():
    empty = np.zeros((5, 5, 5), bool)
    some = empty.copy()
    some[2, 2, 2] = True
    found = lesion_detection(empty, some)
    assert found["tpr"] == 0.0 and np.isnan(found["fpr"])
    assert "no predicted lesions" in found["note"]
    found = lesion_detection(some, empty)
    assert np.isnan(found["tpr"]) and found["fpr"] == 1.0
    assert "no true lesions" in found["note"]


def test_connectivity_changes_the_components():
    mask = np.zeros((4, 4, 4), bool)
    mask[1, 1, 1] = mask[2, 2, 2] = True
    assert label_lesions(mask, 1)[1] == 2
    assert label_lesions(mask, 3)[1] == 1
    with pytest.raises(SynflairError, match="connectivity"):
        label_lesions(mask, 0)


def test_bad_input():
    with pytest.raises(SynflairError, match="same grid"):
        lesion_detection(np.zeros((3, 3, 3)), np.zeros((3, 3, 4)))
    with pytest.raises(SynflairError, match="min_overlap"):
        lesion_detection(np.zeros((3, 3, 3)), np.zeros((3, 3, 3)), min_overlap=0)
