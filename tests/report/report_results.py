"""A small results folder laid out as the workflow writes it, for the report's tests.

Used by tests/report (conftest.py) and tests/badinput/test_report.py.

Three test subjects on a 40 x 40 x 6 grid. The per-subject metrics and the
statistics are computed by the real ``synflair.metrics`` and ``synflair.stats``
code from the images, so the tables have the workflow's columns and values.
Lesions: ``t1`` has lesions on every map but stage 1's; ``t2`` none on any map
although its phantom truth has 3 (the ci run's case); ``t3`` on every map.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from synflair.metrics.subject import subject_metrics
from synflair.stats.run import run_statistics
from synflair.train.curves import LOSS_COLUMNS

SHAPE = (40, 40, 6)
SUBJECTS = ("t1", "t2", "t3")


def _save(path: Path, data) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.asarray(data), np.eye(4)), str(path))
    return str(path)


def _lesions(centres, radius=2.5) -> np.ndarray:
    i, j, k = np.indices(SHAPE)
    out = np.zeros(SHAPE, bool)
    for ci, cj, ck in centres:
        out |= (((i - ci) ** 2 + (j - cj) ** 2) <= radius**2) & (np.abs(k - ck) <= 1)
    return out


def _anatomy():
    i, j, _ = np.indices(SHAPE)
    r = np.hypot(i - 19.5, j - 19.5)
    mask = r < 17
    dseg = np.where(r < 5, 1, np.where(r < 12, 3, np.where(r < 17, 2, 0))).astype(np.int16)
    dseg[~mask] = 0
    conventional = np.where(dseg == 1, 20.0, np.where(dseg == 3, 60.0, 90.0)) * mask + 1.0
    return mask, dseg, conventional.astype(np.float32)


LESIONS = {
    "t1": {"conventional": [(15, 25, 3), (25, 12, 2)], "synthetic": [(15, 25, 3)],
           "dl": [(15, 25, 3), (25, 12, 2)], "stage1": [], "truth": [(15, 25, 3), (25, 12, 2)]},
    "t2": {"conventional": [], "synthetic": [], "dl": [], "stage1": [],
           "truth": [(15, 25, 3), (25, 12, 2), (22, 28, 4)]},
    "t3": {"conventional": [(26, 22, 3)], "synthetic": [(26, 22, 3)], "dl": [(26, 22, 3)],
           "stage1": [(26, 22, 3)], "truth": [(26, 22, 3)]},
}  # fmt: skip


def make_results(root: Path) -> Path:
    """Write ``root/results`` (and ``root/resources/phantom`` truths); return ``results``."""
    results = root / "results"
    rng = np.random.default_rng(7)
    mask, dseg, conventional = _anatomy()
    for n, subject in enumerate(SUBJECTS):

        def path(stage, suffix, subject=subject):
            return results / stage / f"sub-{subject}" / f"sub-{subject}_{suffix}"

        noise = {"synthetic": 12.0 + n, "stage1": 7.0, "dl": 4.0 + 0.5 * n}
        images = {
            name: np.clip(conventional + rng.normal(0, sd, SHAPE), 0.5, None).astype(np.float32)
            for name, sd in noise.items()
        }
        maps = {name: _lesions(c) for name, c in LESIONS[subject].items()}
        truth = maps.pop("truth")
        _save(path("quantify", "desc-synthetic_FLAIR.nii.gz"), images["synthetic"])
        _save(path("infer", "desc-dl_FLAIR.nii.gz"), images["dl"])
        _save(path("infer", "desc-stage1_FLAIR.nii.gz"), images["stage1"])
        _save(path("registration", "space-synthetic_FLAIR.nii.gz"), conventional)
        _save(path("quantify", "desc-intracranial_mask.nii.gz"), mask.astype(np.uint8))
        _save(path("segmentation", "dseg.nii.gz"), dseg)
        _save(path("quantify", "desc-synthetic_T1w.nii.gz"), (120.0 - conventional) * mask)
        for name, lesion in maps.items():
            _save(path("lesions", f"desc-{name}_lesions.nii.gz"), lesion.astype(np.uint8))
        truth_dir = root / "resources" / "phantom" / f"sub-{subject}" / "truth"
        _save(truth_dir / f"sub-{subject}_label-lesion_mask.nii.gz", truth.astype(np.uint8))
        metrics = subject_metrics(
            subject, conventional, images, mask, dseg, lesions=maps, lesion_truth=truth
        )
        out = path("metrics", "metrics.tsv")
        out.parent.mkdir(parents=True, exist_ok=True)
        metrics.to_csv(out, sep="\t", index=False)
        qc = _truth_rows(subject, n)
        out = path("qc", "truth.tsv")
        out.parent.mkdir(parents=True, exist_ok=True)
        qc.to_csv(out, sep="\t", index=False)
    run_statistics(sorted(results.glob("metrics/sub-*/sub-*_metrics.tsv")), results / "stats")
    for stage in (1, 2):
        iterations = np.arange(10, 110, 10)
        frame = pd.DataFrame({"stage": stage, "iteration": iterations})
        for c, column in enumerate(LOSS_COLUMNS):
            frame[column] = 0.5 + 0.3 * np.exp(-iterations / 40.0) * (c + 1) / 6
        out = results / "train" / f"stage-{stage}" / "losses.tsv"
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, sep="\t", index=False)
    return results


def _truth_rows(subject: str, n: int) -> pd.DataFrame:
    rows = [
        ("quantification T1 median |error|", "WM", 1.2 + n, "<= 3", "%", 1.2 + n <= 3),
        ("quantification T1 median |error|", "CSF", 4.0, "<= 10", "%", True),
        ("intracranial mask Dice", "intracranial", 0.97, ">= 0.95", "", True),
        ("registration rotation error", "head", 0.3 * n, "<= 0.5", "deg", 0.3 * n <= 0.5),
        ("segmentation Dice", "CSF", 0.8, "", "", None),
        ("lesion Dice vs lesions the FLAIR images", "lesions", 0.75, ">= 0.7", "", True),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["check", "region", "value", "target", "unit", "passed"])
    frame.insert(0, "subject", subject)
    return frame
