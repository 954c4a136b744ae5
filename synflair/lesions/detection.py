"""Lesion-wise detection: true and false positive rates by connected component.

A true lesion (connected component of the truth mask) is *detected* when at
least ``min_overlap`` of its voxels are in the predicted mask; a predicted
lesion is a *false positive* when none of its voxels is in the truth mask.
Rates, as in the lesion-segmentation literature:

- lesion-wise true positive rate, ``TPR = detected true lesions / true lesions``;
- lesion-wise false positive rate, ``FPR = false positive predicted lesions /
  predicted lesions`` (a false discovery rate; with no true negatives among
  lesions this is the customary "lesion-wise FPR").

References
----------
.. [1] Schmidt P, et al. An automated tool for detection of FLAIR-hyperintense
   white-matter lesions in multiple sclerosis. NeuroImage 2012;59:3774-3783.
.. [2] Commowick O, et al. Objective evaluation of multiple sclerosis lesion
   segmentation using a data management and processing infrastructure.
   Sci Rep 2018;8:13650 (lesion-wise detection criteria).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from synflair.errors import SynflairError


def label_lesions(mask: ArrayLike, connectivity: int = 3) -> tuple[np.ndarray, int]:
    """Connected components of a binary mask.

    Parameters
    ----------
    mask : array_like of bool, 3D
    connectivity : {1, 2, 3}
        Neighbours sharing a face (1, 6-connectivity), an edge (2, 18) or a corner (3, 26).

    Returns
    -------
    labels : numpy.ndarray of int32
        0 outside, 1..n per component.
    n : int
    """
    mask = np.asarray(mask).astype(bool)
    if not 1 <= connectivity <= mask.ndim:
        raise SynflairError(f"connectivity must be in [1, {mask.ndim}], not {connectivity!r}")
    structure = ndimage.generate_binary_structure(mask.ndim, connectivity)
    labels, n = ndimage.label(mask, structure=structure)
    return labels.astype(np.int32), int(n)


def lesion_detection(
    pred: ArrayLike, truth: ArrayLike, *, connectivity: int = 3, min_overlap: int = 1
) -> dict:
    """Lesion-wise detection of ``pred`` against ``truth``.

    Parameters
    ----------
    pred, truth : array_like of bool, same shape
        Predicted and true lesion masks.
    connectivity : {1, 2, 3}
        See :func:`label_lesions`.
    min_overlap : int
        Voxels a true lesion must share with ``pred`` to count as detected.

    Returns
    -------
    dict
        ``n_true``, ``n_pred``, ``true_positives`` (detected true lesions),
        ``false_negatives``, ``false_positives`` (predicted lesions touching no true
        lesion), ``tpr``, ``fpr`` (NaN when undefined) and ``note`` (why a rate is NaN).
    """
    pred = np.asarray(pred)
    truth = np.asarray(truth)
    if pred.shape != truth.shape:
        raise SynflairError(
            f"lesion masks have shapes {pred.shape} and {truth.shape}; expected the same grid"
        )
    if min_overlap < 1:
        raise SynflairError(f"min_overlap must be >= 1 voxel, not {min_overlap!r}")
    pred = pred.astype(bool)
    truth = truth.astype(bool)
    true_labels, n_true = label_lesions(truth, connectivity)
    pred_labels, n_pred = label_lesions(pred, connectivity)
    overlap = np.bincount(true_labels[pred], minlength=n_true + 1)[1:]
    detected = int(np.count_nonzero(overlap >= min_overlap))
    touching = np.bincount(pred_labels[truth], minlength=n_pred + 1)[1:]
    false_positives = int(np.count_nonzero(touching == 0))
    notes = []
    if n_true == 0:
        notes.append("no true lesions: TPR undefined")
    if n_pred == 0:
        notes.append("no predicted lesions: FPR undefined")
    return {
        "n_true": n_true,
        "n_pred": n_pred,
        "true_positives": detected,
        "false_negatives": n_true - detected,
        "false_positives": false_positives,
        "tpr": detected / n_true if n_true else math.nan,
        "fpr": false_positives / n_pred if n_pred else math.nan,
        "note": "; ".join(notes),
    }
