"""Test images: nilearn's MNI152 T1 on thick-slice axial grids, moved by a known rigid motion.

The fixed image samples the template on a 2.5 x 2.5 mm, 4 mm slice / 5 mm step
grid (slice profile: a 4 mm box average). The moving image samples the same
head after a known motion ``M`` (``x_moving = M @ x_fixed``) on a different
in-plane grid, as a conventional FLAIR acquired after the head moved.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import nilearn
import numpy as np
import pytest
from scipy import ndimage

from synflair.nifti import save
from synflair.registration.transform import rigid_matrix

MNI_DIR = Path(nilearn.__file__).parent / "datasets" / "data"
MNI_T1 = MNI_DIR / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
#: Centre of the test slab (RAS mm): through the lateral ventricles.
CENTER = np.array([0.0, -18.0, 12.0])
#: The true motion of the moving image.
TRUE_MOTION = rigid_matrix((2.0, -1.5, 3.0), (2.5, -3.0, 2.0), center_mm=CENTER)


def axial_grid(spacing_mm, shape, center=CENTER) -> np.ndarray:
    """RAS affine of an axial grid with the given voxel spacing centred on ``center``."""
    affine = np.diag([*spacing_mm, 1.0])
    affine[:3, 3] = np.asarray(center) - affine[:3, :3] @ ((np.asarray(shape) - 1) / 2)
    return affine


def sample_thick(volume, volume_affine, grid_affine, shape, *, thickness_vox=0.8, order=1):
    """Sample ``volume`` at the voxels of a grid, averaged over a slice-profile box.

    ``grid_affine`` maps grid voxels to the world coordinates where the
    template is read (compose with a motion to move the head).
    """
    index = np.indices(shape).reshape(3, -1).astype(float)
    to_volume = np.linalg.inv(volume_affine) @ grid_affine
    offsets = np.linspace(-0.5, 0.5, 5) * thickness_vox
    total = np.zeros(index.shape[1])
    for offset in offsets:
        shifted = index + np.array([[0.0], [0.0], [offset]])
        coords = to_volume[:3, :3] @ shifted + to_volume[:3, 3:]
        total += ndimage.map_coordinates(volume, coords, order=order)
    return (total / offsets.size).reshape(shape)


@pytest.fixture(scope="session")
def mni():
    image = nib.load(MNI_T1)
    return np.asarray(image.dataobj, dtype=np.float32), image.affine


@pytest.fixture(scope="session")
def pair(mni, tmp_path_factory):
    """(moving path, fixed path, true fixed_to_moving_world, fixed brain mask path)."""
    data, affine = mni
    out = tmp_path_factory.mktemp("pair")
    fixed_shape, fixed_affine = (88, 100, 12), axial_grid((2.5, 2.5, 5.0), (88, 100, 12))
    moving_shape, moving_affine = (80, 92, 12), axial_grid((2.75, 2.75, 5.0), (80, 92, 12))
    fixed = sample_thick(data, affine, fixed_affine, fixed_shape)
    moving = sample_thick(data, affine, np.linalg.inv(TRUE_MOTION) @ moving_affine, moving_shape)
    brain = sample_thick((data > 40).astype(np.float32), affine, fixed_affine, fixed_shape) > 0.5
    save(fixed, fixed_affine, out / "fixed.nii.gz")
    save(moving, moving_affine, out / "moving.nii.gz")
    save(brain, fixed_affine, out / "brain_mask.nii.gz", dtype=np.uint8)
    return out / "moving.nii.gz", out / "fixed.nii.gz", TRUE_MOTION, out / "brain_mask.nii.gz"


@pytest.fixture(scope="session")
def center():
    """Centre of the test slab, RAS mm."""
    return CENTER.copy()
