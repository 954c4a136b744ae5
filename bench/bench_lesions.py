"""Time and Dice of ``synflair lesions --flair --t1`` on patient19 (tissue segmentation included).

Data: Lesjak Z, et al. Neuroinformatics 2018;16:51-63 (doi:10.1007/s12021-017-9348-7), CC-BY,
``../shared/data/open_ms_data``.
Run: ``python bench/bench_lesions.py [--local-seed-score X ...]`` (extra options go to
``synflair lesions``). Prints wall time, Dice and lesion-wise TPR/FPR, for the whole brain and
for each hemisphere (MNI x < 0 and x > 0; each lesion counted where its centroid lies), so that
a change chosen on one hemisphere can be checked on the other.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

from synflair.cli import main
from synflair.lesions import label_lesions, lesion_detection
from synflair.metrics import dice

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "open_ms_data" / "patient19"


def hemisphere_detection(pred: np.ndarray, truth: np.ndarray, affine: np.ndarray) -> dict:
    """Lesion-wise TPR/FPR and Dice per hemisphere (world x < 0: "left", >= 0: "right").

    Each lesion (26-connected) belongs to the hemisphere of its centroid; a true lesion is
    detected, and a predicted one true, when it shares a voxel with the other mask.
    """
    out = {}
    t_lab, n_t = label_lesions(truth, 3)
    p_lab, n_p = label_lesions(pred, 3)
    voxel_x = nib.affines.apply_affine(affine, np.indices(pred.shape).reshape(3, -1).T)[:, 0]
    voxel_left = voxel_x.reshape(pred.shape) < 0

    def centroid_left(labels, n):
        if n == 0:
            return np.zeros(0, dtype=bool)
        centres = np.asarray(ndimage.center_of_mass(labels > 0, labels, range(1, n + 1)))
        return nib.affines.apply_affine(affine, centres)[:, 0] < 0

    t_left, p_left = centroid_left(t_lab, n_t), centroid_left(p_lab, n_p)
    found = np.bincount(t_lab[pred], minlength=n_t + 1)[1:] > 0
    true = np.bincount(p_lab[truth], minlength=n_p + 1)[1:] > 0
    for name, t_sel, p_sel, v_sel in (("left", t_left, p_left, voxel_left),
                                      ("right", ~t_left, ~p_left, ~voxel_left)):  # fmt: skip
        out[name] = {"tp": int(found[t_sel].sum()), "n_true": int(t_sel.sum()),
                     "fp": int((~true[p_sel]).sum()), "n_pred": int(p_sel.sum()),
                     "dice": dice(pred & v_sel, truth & v_sel)}  # fmt: skip
    return out


def run(extra: list[str]) -> None:
    """Segment patient19 from FLAIR and T1 alone and print the figures."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "lesions.nii.gz"
        start = time.perf_counter()
        argv = ["lesions", "--flair", str(DATA / "FLAIR.nii.gz"), "--t1", str(DATA / "T1.nii.gz"),
                "--backend", "ants", "--out", str(out), *extra]  # fmt: skip
        code = main(argv)
        seconds = time.perf_counter() - start
        if code != 0:
            raise SystemExit(code)
        image = nib.load(out)
        pred = np.asarray(image.dataobj) > 0
    truth = np.asarray(nib.load(DATA / "GOLD_STANDARD.nii.gz").dataobj) > 0
    found = lesion_detection(pred, truth)
    print(f"patient19: {seconds:.1f} s wall; Dice {dice(pred, truth):.3f}; "
          f"TPR {found['tpr']:.2f} ({found['true_positives']}/{found['n_true']}); "
          f"FPR {found['fpr']:.2f} ({found['false_positives']}/{found['n_pred']})")  # fmt: skip
    for name, h in hemisphere_detection(pred, truth, image.affine).items():
        print(f"  {name:5s} (x {'<' if name == 'left' else '>='} 0): Dice {h['dice']:.3f}; "
              f"TPR {h['tp'] / max(h['n_true'], 1):.2f} ({h['tp']}/{h['n_true']}); "
              f"FPR {h['fp'] / max(h['n_pred'], 1):.2f} ({h['fp']}/{h['n_pred']})")  # fmt: skip


if __name__ == "__main__":
    run(sys.argv[1:])
