"""Dice and speed of ``synflair.segmentation`` on a synthetic T1w made from the MNI152 GM/WM maps.

Tissue fractions come from nilearn's MNI152 GM and WM maps; the intracranial
volume is their closed, hole-filled union dilated by 2 mm, CSF the remainder.
The synthetic T1w (``synflair.physics.SYNTHETIC_T1W``: TR 500, TE 10 ms) is the
fraction-weighted sum of the tissue signals through a 4 mm slice profile on 12
axial slices (5 mm steps) through the ventricles, plus Gaussian noise (a
fraction of the WM signal). The truth is the argmax of the fractions. Prints the
Dice of CSF, GM and WM and the wall time per grid, noise level and MRF strength.

Usage::

    python bench/bench_segmentation.py [--backend ants] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nibabel as nib
import nilearn
import numpy as np
from scipy import ndimage

from synflair.nifti import save
from synflair.physics import SYNTHETIC_T1W
from synflair.segmentation import segment
from synflair.segmentation.ants import AtroposSettings
from synflair.segmentation.fsl import FastSettings

MNI_DIR = Path(nilearn.__file__).parent / "datasets" / "data"
TISSUES = {"CSF": (4000.0, 1500.0, 1.0), "GM": (1330.0, 100.0, 0.79), "WM": (830.0, 75.0, 0.67)}
CENTER = np.array([0.0, -16.0, 14.0])
GRIDS = {
    "ci-like 2.5 mm": ((2.5, 2.5, 5.0), (72, 88, 12)),
    "demo-like 1.25 mm": ((1.25, 1.25, 5.0), (144, 176, 12)),
}


def fractions_1mm():
    gm_image = nib.load(MNI_DIR / "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz")
    gm = np.asarray(gm_image.dataobj, dtype=np.float32) / 255.0
    wm = (
        np.asarray(
            nib.load(MNI_DIR / "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz").dataobj,
            dtype=np.float32,
        )
        / 255.0
    )
    brain = ndimage.binary_closing((gm + wm) > 0.2, iterations=4)
    intracranial = ndimage.binary_dilation(ndimage.binary_fill_holes(brain), iterations=2)
    gm, wm = gm * intracranial, wm * intracranial
    total = gm + wm
    over = total > 1
    gm[over] /= total[over]
    wm[over] /= total[over]
    csf = np.clip(intracranial - gm - wm, 0.0, 1.0)
    return np.stack([csf, gm, wm, intracranial.astype(np.float32)]), gm_image.affine


def sample_thick(volume, volume_affine, affine, shape, thickness_vox=0.8):
    index = np.indices(shape).reshape(3, -1).astype(float)
    to_volume = np.linalg.inv(volume_affine) @ affine
    offsets = np.linspace(-0.5, 0.5, 5) * thickness_vox
    total = np.zeros(index.shape[1])
    for offset in offsets:
        shifted = index + np.array([[0.0], [0.0], [offset]])
        total += ndimage.map_coordinates(
            volume, to_volume[:3, :3] @ shifted + to_volume[:3, 3:], order=1
        )
    return (total / offsets.size).reshape(shape)


def dice(a, b):
    return 2.0 * np.sum(a & b) / (np.sum(a) + np.sum(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="ants", choices=("ants", "fsl", "auto"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    maps, maps_affine = fractions_1mm()
    signals = [SYNTHETIC_T1W.signal(*TISSUES[name]) for name in ("CSF", "GM", "WM")]
    betas = (0.0, 0.1, 0.2, 0.3)
    print(f"backend {args.backend}; Dice CSF / GM / WM against argmax of the true fractions")
    print("grid                noise   MRF beta   Dice CSF  Dice GM  Dice WM   time s")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for grid_name, (spacing, shape) in GRIDS.items():
            affine = np.diag([*spacing, 1.0])
            affine[:3, 3] = CENTER - affine[:3, :3] @ ((np.asarray(shape) - 1) / 2)
            sampled = np.stack([sample_thick(m, maps_affine, affine, shape) for m in maps])
            mask = sampled[3] > 0.5
            truth = (np.argmax(sampled[:3], axis=0) + 1) * mask
            clean = np.tensordot(signals, sampled[:3], axes=1)
            mask_path = save(mask, affine, work / "mask.nii.gz", dtype=np.uint8)
            for noise in (0.01, 0.02, 0.04):
                rng = np.random.default_rng(args.seed)
                t1w = np.clip(clean + rng.normal(0.0, noise * signals[2], shape), 0, None) * mask
                t1w_path = save(t1w, affine, work / "t1w.nii.gz")
                for beta in betas:
                    kind = AtroposSettings if args.backend == "ants" else FastSettings
                    start = time.perf_counter()
                    result = segment(
                        t1w_path,
                        mask_path,
                        work / "seg",
                        "b",
                        backend=args.backend,
                        settings=kind(mrf_beta=beta),
                    )
                    elapsed = time.perf_counter() - start
                    labels = np.asarray(nib.load(result.dseg).dataobj)
                    scores = [dice(labels == k, truth == k) for k in (1, 2, 3)]
                    print(
                        f"{grid_name:19s} {noise:5.0%}   {beta:8.1f}   "
                        f"{scores[0]:8.3f} {scores[1]:8.3f} {scores[2]:8.3f}   {elapsed:6.2f}"
                    )


if __name__ == "__main__":
    main()
