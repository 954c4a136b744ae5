"""A synthetic T1w head from nilearn's MNI152 GM/WM maps on a thick-slice grid.

Tissue fractions: the MNI GM and WM probability maps; the intracranial volume
is their closed, hole-filled union (>0.2) dilated by 2 mm, and CSF is what
remains inside it. Each voxel's T1w is the fraction-weighted sum of the tissue
signals of ``synflair.physics.SYNTHETIC_T1W`` (TR 500, TE 10 ms), averaged
through a 4 mm slice profile on a 2.5 x 2.5 mm grid with 5 mm slice steps,
plus Gaussian noise. The truth is the argmax of the fractions on that grid.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import nilearn
import numpy as np
import pytest
from scipy import ndimage

from synflair.nifti import save
from synflair.physics import SYNTHETIC_T1W

MNI_DIR = Path(nilearn.__file__).parent / "datasets" / "data"
#: (T1 ms, T2 ms, PD) of CSF, GM, WM at 3T (docs/phantom.md table).
TISSUES = {"CSF": (4000.0, 1500.0, 1.0), "GM": (1330.0, 100.0, 0.79), "WM": (830.0, 75.0, 0.67)}
SHAPE = (72, 88, 10)
SPACING = (2.5, 2.5, 5.0)
CENTER = np.array([0.0, -16.0, 14.0])
NOISE = 0.02  # standard deviation, fraction of the WM signal


def grid_affine():
    affine = np.diag([*SPACING, 1.0])
    affine[:3, 3] = CENTER - affine[:3, :3] @ ((np.asarray(SHAPE) - 1) / 2)
    return affine


def sample_thick(volume, volume_affine, affine, shape, thickness_vox=0.8):
    index = np.indices(shape).reshape(3, -1).astype(float)
    to_volume = np.linalg.inv(volume_affine) @ affine
    offsets = np.linspace(-0.5, 0.5, 5) * thickness_vox
    total = np.zeros(index.shape[1])
    for offset in offsets:
        shifted = index + np.array([[0.0], [0.0], [offset]])
        coords = to_volume[:3, :3] @ shifted + to_volume[:3, 3:]
        total += ndimage.map_coordinates(volume, coords, order=1)
    return (total / offsets.size).reshape(shape)


@pytest.fixture(scope="session")
def head(tmp_path_factory):
    """Paths of the T1w and its mask, the truth labels (0, 1 CSF, 2 GM, 3 WM) and the affine."""
    gm_image = nib.load(MNI_DIR / "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz")
    wm_image = nib.load(MNI_DIR / "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz")
    gm = np.asarray(gm_image.dataobj, dtype=np.float32) / 255.0
    wm = np.asarray(wm_image.dataobj, dtype=np.float32) / 255.0
    brain = ndimage.binary_closing((gm + wm) > 0.2, iterations=4)
    intracranial = ndimage.binary_dilation(ndimage.binary_fill_holes(brain), iterations=2)
    gm, wm = gm * intracranial, wm * intracranial
    total = gm + wm
    over = total > 1
    gm[over] /= total[over]
    wm[over] /= total[over]
    csf = np.clip(intracranial - gm - wm, 0.0, 1.0)
    affine = grid_affine()
    fractions = np.stack([sample_thick(f, gm_image.affine, affine, SHAPE) for f in (csf, gm, wm)])
    signals = [SYNTHETIC_T1W.signal(*TISSUES[name]) for name in ("CSF", "GM", "WM")]
    mask = sample_thick(intracranial.astype(np.float32), gm_image.affine, affine, SHAPE) > 0.5
    rng = np.random.default_rng(20190224)
    t1w = np.tensordot(signals, fractions, axes=1)
    t1w = t1w + rng.normal(0.0, NOISE * signals[2], SHAPE)
    t1w = np.clip(t1w, 0.0, None) * mask  # skull-stripped-like: zero outside
    truth = (np.argmax(fractions, axis=0) + 1) * mask
    out = tmp_path_factory.mktemp("head")
    save(t1w, affine, out / "sub-01_T1w.nii.gz")
    save(mask, affine, out / "sub-01_mask.nii.gz", dtype=np.uint8)
    return out / "sub-01_T1w.nii.gz", out / "sub-01_mask.nii.gz", truth.astype(np.uint8), affine


def dice(a, b):
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    return 2.0 * np.sum(a & b) / (np.sum(a) + np.sum(b))


@pytest.fixture(scope="session")
def dice_of():
    return dice
