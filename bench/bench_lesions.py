"""Time and Dice of ``synflair lesions --flair --t1`` on patient19 (tissue segmentation included).

Data: Lesjak et al., Neuroinformatics 2018 (CC-BY), ``../shared/data/open_ms_data``.
Run: ``python bench/bench_lesions.py`` (prints wall time, Dice, lesion-wise TPR/FPR).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np

from synflair.cli import main
from synflair.lesions import lesion_detection
from synflair.metrics import dice

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "open_ms_data" / "patient19"


def run() -> None:
    """Segment patient19 from FLAIR and T1 alone and print the figures."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "lesions.nii.gz"
        start = time.perf_counter()
        code = main(["lesions", "--flair", str(DATA / "FLAIR.nii.gz"), "--t1",
                     str(DATA / "T1.nii.gz"), "--backend", "ants", "--out", str(out)])  # fmt: skip
        seconds = time.perf_counter() - start
        if code != 0:
            raise SystemExit(code)
        pred = np.asarray(nib.load(out).dataobj) > 0
    truth = np.asarray(nib.load(DATA / "GOLD_STANDARD.nii.gz").dataobj) > 0
    found = lesion_detection(pred, truth)
    print(f"patient19: {seconds:.1f} s wall; Dice {dice(pred, truth):.3f}; "
          f"TPR {found['tpr']:.2f} ({found['true_positives']}/{found['n_true']}); "
          f"FPR {found['fpr']:.2f} ({found['false_positives']}/{found['n_pred']})")  # fmt: skip


if __name__ == "__main__":
    run()
