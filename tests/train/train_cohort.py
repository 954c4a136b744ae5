"""A tiny synthetic training cohort made with synflair.physics.

Each subject is a stack of small axial slices of an elliptical "head": a WM
core, a GM ring, CSF around it and in a ventricle, and a lesion, blurred into
partial-volume fractions. The MDME magnitudes and the conventional FLAIR are
fraction-weighted sums of the compartments' signed signals (as in a real
voxel); the "synthetic FLAIR" target uses the fraction-weighted mean T1, T2,
PD of the voxel (the single-compartment model), so that it shows the bright
rims at tissue-CSF borders that the network should learn to avoid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from synflair import physics
from synflair.nifti import save

# T1 ms, T2 ms, PD of WM, GM, CSF, lesion
TISSUES = np.array(
    [[830.0, 75.0, 0.67], [1330.0, 100.0, 0.79], [4000.0, 1000.0, 1.0], [1300.0, 150.0, 0.85]]
)


def tiny_subject(rng: np.random.Generator, shape=(48, 48, 3)):
    """MDME (X, Y, Z, 8), mask, synthetic-FLAIR target and conventional FLAIR arrays."""
    nx, ny, nz = shape
    x, y = np.meshgrid(np.linspace(-1, 1, nx), np.linspace(-1, 1, ny), indexing="ij")
    a, b = rng.uniform(0.75, 0.9, 2)
    r = np.sqrt((x / a) ** 2 + (y / b) ** 2)
    labels = np.full((nx, ny), 2)  # CSF
    labels[r < 0.85] = 1  # GM
    labels[r < 0.6] = 0  # WM
    labels[np.hypot(x - rng.uniform(-0.1, 0.1), y) < 0.15] = 2  # ventricle
    cx, cy = rng.uniform(-0.4, 0.4, 2)
    labels[np.hypot(x - cx, y - cy) < 0.1] = 3  # lesion
    head = r < 1.0
    onehot = np.stack([(labels == k) & head for k in range(4)], axis=-1).astype(float)
    fractions = np.stack([ndimage.gaussian_filter(onehot[..., k], 1.0) for k in range(4)], axis=-1)
    fractions *= head[..., None]
    fractions = np.repeat(fractions[:, :, None, :], nz, axis=2)
    t1, t2, pd = (TISSUES[:, i] for i in range(3))
    mdme_signed = physics.MDME_PAPER.signal(t1, t2, pd)  # (4, 8)
    mdme = np.abs(fractions @ mdme_signed)
    mdme += rng.normal(0, 0.005, mdme.shape)
    mdme = np.abs(mdme)
    conv_signed = physics.ir_signed(
        t1, t2, pd, tr=physics.CONVENTIONAL_FLAIR.tr, te=physics.CONVENTIONAL_FLAIR.te,
        ti=physics.CONVENTIONAL_FLAIR.ti,
    )  # fmt: skip
    conventional = np.abs(fractions @ conv_signed)
    total = fractions.sum(-1)
    inside = total > 1e-3
    mean_t1 = np.where(inside, fractions @ t1, 1000.0) / np.where(inside, total, 1.0)
    mean_t2 = np.where(inside, fractions @ t2, 100.0) / np.where(inside, total, 1.0)
    synthetic = physics.SYNTHETIC_FLAIR.signal(mean_t1, mean_t2, total)
    mask = np.repeat((r < 0.97)[:, :, None], nz, axis=2)
    return (
        mdme.astype(np.float32),
        mask,
        synthetic.astype(np.float32),
        conventional.astype(np.float32),
    )


def write_cohort(root: Path, n_subjects: int, seed: int = 0, shape=(48, 48, 3)) -> Path:
    """Write NIfTIs and a manifest TSV for ``n_subjects`` tiny subjects; return the manifest."""
    rng = np.random.default_rng(seed)
    affine = np.diag([2.0, 2.0, 5.0, 1.0])
    rows = []
    for index in range(n_subjects):
        subject = f"t{index:02d}"
        mdme, mask, synthetic, conventional = tiny_subject(rng, shape)
        paths = {
            "mdme": root / f"sub-{subject}_mdme.nii.gz",
            "mask": root / f"sub-{subject}_mask.nii.gz",
            "target": root / f"sub-{subject}_desc-csfsuppressed_FLAIR.nii.gz",
            "conventional": root / f"sub-{subject}_space-synthetic_FLAIR.nii.gz",
        }
        save(mdme, affine, paths["mdme"])
        save(mask.astype(np.uint8), affine, paths["mask"], dtype=np.uint8)
        save(synthetic, affine, paths["target"])
        save(conventional, affine, paths["conventional"])
        rows.append({"subject": subject, **{k: str(v) for k, v in paths.items()}})
    manifest = root / "manifest.tsv"
    pd.DataFrame(rows).to_csv(manifest, sep="\t", index=False)
    return manifest
