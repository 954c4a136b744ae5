"""Time and Dice of ``synflair lesions --flair --t1`` on patient19 (tissue segmentation included).

Data: Lesjak Z, et al. Neuroinformatics 2018;16:51-63 (doi:10.1007/s12021-017-9348-7), CC-BY,
``../shared/data/open_ms_data``.
Run: ``python bench/bench_lesions.py [--local-seed-score X ...]`` (extra options go to
``synflair lesions``). Prints wall time, Dice and lesion-wise TPR/FPR, for the whole brain and
for each hemisphere (MNI x < 0 and x > 0; each lesion counted where its centroid lies), so that
a change chosen on one hemisphere can be checked on the other.

``python bench/bench_lesions.py --t2-shell-rule`` measures the T2 experiment of docs/lesions.md
(a negative result, not an option of ``synflair lesions``): candidates of a low setting kept by
their T2 contrast against their own surroundings, at 1 mm and in 5 mm axial slabs.
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


#: The T2 rule chosen on the left hemisphere (docs/lesions.md): a default lesion is kept when
#: its T2 shell ratio is >= 1.05, a lesion of the low candidate setting when it is >= 1.175.
T2_KEEP_DEFAULT, T2_KEEP_ADDED = 1.05, 1.175
T2_POOL = {"kappa": 0.3, "min_mean_z": 0.5, "min_volume_mm3": 1.0}


def t2_shell_ratio(labels: np.ndarray, n: int, t2: np.ndarray, tissue: np.ndarray) -> np.ndarray:
    """Per lesion: mean T2 inside over the median T2 of a 1-3 voxel shell (NaN: < 5 voxels).

    The shell holds ``tissue`` voxels (in the mask, CSF probability < 0.5) of no lesion.
    """
    ratio = np.full(n, np.nan)
    for i, box in enumerate(ndimage.find_objects(labels)):
        box = tuple(slice(max(s.start - 4, 0), s.stop + 4) for s in box)
        inside = labels[box] == i + 1
        distance = ndimage.distance_transform_edt(~inside)
        shell = (distance >= 1) & (distance <= 3) & (labels[box] == 0) & tissue[box]
        if shell.sum() >= 5:
            ratio[i] = t2[box][inside].mean() / np.median(t2[box][shell])
    return ratio


def t2_rule(slab: int) -> None:
    """Defaults vs the T2 shell rule on patient19 (``slab`` 1 mm slices averaged axially)."""
    from synflair.lesions import LesionParams, segment
    from synflair.lesions.brainmask import estimate_brain_mask
    from synflair.lesions.tissues import segment_tissues
    from synflair.nifti import save

    image = nib.load(DATA / "FLAIR.nii.gz")
    affine = image.affine.copy()
    affine[:3, 2] *= slab
    affine[:3, 3] += (slab - 1) / 2 * image.affine[:3, 2]
    vols = {}
    for name in ("FLAIR", "T1", "T2", "GOLD_STANDARD"):
        v = np.asarray(nib.load(DATA / f"{name}.nii.gz").dataobj, dtype=np.float32)
        z = v.shape[2] - v.shape[2] % slab
        vols[name] = v[..., :z].reshape(*v.shape[:2], z // slab, slab).mean(-1)
    voxel = (1.0, 1.0, float(slab))
    mask = estimate_brain_mask(vols["T1"], vols["FLAIR"], voxel)
    with tempfile.TemporaryDirectory() as work:
        t1 = save(vols["T1"], affine, Path(work) / "t1.nii.gz")
        probs = segment_tissues(t1, mask, nib.load(t1), backend="ants")
    maps = (mask, probs["gm"], probs["wm"], probs["csf"])
    parenchyma = mask & (probs["csf"] < 0.5)
    truth = vols["GOLD_STANDARD"] >= 0.5
    kept = []
    # (setting, threshold, keep a lesion with no shell): a default lesion without one stays
    settings = ((LesionParams(), T2_KEEP_DEFAULT, True),
                (LesionParams(**T2_POOL), T2_KEEP_ADDED, False))  # fmt: skip
    for params, threshold, nan_kept in settings:
        lesions = segment(vols["FLAIR"], *maps, params, voxel_size=voxel).lesions
        labels, n = label_lesions(lesions, 3)
        ratio = t2_shell_ratio(labels, n, vols["T2"], parenchyma)
        keep = np.concatenate([[False], np.where(np.isnan(ratio), nan_kept, ratio >= threshold)])
        kept.append((lesions, keep[labels]))
    for name, pred in (("defaults", kept[0][0]), ("T2 shell rule", kept[0][1] | kept[1][1])):
        found = lesion_detection(pred, truth)
        line = f"{slab} mm, {name}: Dice {dice(pred, truth):.3f} TPR {found['tpr']:.2f} "
        line += f"FPR {found['fpr']:.2f}"
        for side, h in hemisphere_detection(pred, truth, affine).items():
            line += f"; {side} Dice {h['dice']:.3f} TPR {h['tp'] / max(h['n_true'], 1):.2f} "
            line += f"FPR {h['fp'] / max(h['n_pred'], 1):.2f}"
        print(line)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--t2-shell-rule"]:
        t2_rule(1)
        t2_rule(5)
    else:
        run(sys.argv[1:])
