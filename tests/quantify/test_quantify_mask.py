import numpy as np
import pytest
from quantify_sim import TISSUES

from synflair.physics import MDME_PAPER
from synflair.quantify.mask import MaskSettings, intracranial_mask, intracranial_tissue
from synflair.quantify.model import MDMEModel


def dice(a, b):
    return 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


@pytest.fixture(scope="module")
def head_fit(head):
    return MDMEModel(MDME_PAPER).fit(np.abs(head.signals))


def test_dice_on_the_simulated_head(head, head_fit):
    fit = head_fit
    mask = intracranial_mask(fit.t1, fit.t2, fit.pd, fit.valid, voxel_size=head.voxel_size)
    assert mask.dtype == bool and mask.shape == head.icv.shape
    assert dice(mask, head.icv) >= 0.95
    # the scalp is excluded: no voxel that is mostly fat, muscle or marrow
    extracranial = sum(head.fractions[k] for k in ("fat", "muscle", "marrow")) > 0.5
    assert extracranial.sum() > 1000
    assert not np.any(mask & extracranial)


def test_mask_does_not_depend_on_the_pd_scale(head, head_fit):
    fit = head_fit
    a = intracranial_mask(fit.t1, fit.t2, fit.pd, fit.valid, voxel_size=head.voxel_size)
    b = intracranial_mask(fit.t1, fit.t2, 0.37 * fit.pd, fit.valid, voxel_size=head.voxel_size)
    np.testing.assert_array_equal(a, b)


def test_classification_of_pure_tissues():
    names = list(TISSUES)
    t1, t2, pd = (np.array([TISSUES[n][i] for n in names]) for i in range(3))
    inside = intracranial_tissue(t1, t2, 100 * pd)
    assert dict(zip(names, inside, strict=True)) == {
        "WM": True, "GM": True, "CSF": True, "lesion": True,
        "fat": False, "muscle": False, "marrow": False,
    }  # fmt: skip
    # CSF sharing the voxel with bone: PD = the CSF fraction; the edge is at ~half the voxel
    csf = intracranial_tissue(
        np.array([832.0, 4000.0, 4000.0]), np.array([80.0, 1500.0, 1500.0]), np.array([68, 60, 40])
    )
    assert csf.tolist() == [True, True, False]


def box_maps(shape=(40, 40, 6)):
    """WM-like box inside CSF-like box; everything else empty (bone/air)."""
    t1, t2, pd = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    t1[5:35, 5:35], t2[5:35, 5:35], pd[5:35, 5:35] = 4000.0, 1500.0, 100.0
    t1[10:30, 10:30], t2[10:30, 10:30], pd[10:30, 10:30] = 832.0, 80.0, 68.0
    return t1, t2, pd


def test_holes_are_filled_and_detached_blobs_removed():
    t1, t2, pd = box_maps()
    truth = t1 > 0
    t1[15:20, 15:20, 2] = 0  # a hole of unfitted voxels (e.g. flow artifact)
    for m in (t1, t2, pd):  # a separate blob of brain-like voxels outside (e.g. eye)
        m[36:39, 36:39, :] = m[20, 20, 0]
    mask = intracranial_mask(t1, t2, pd, voxel_size=(1.0, 1.0, 4.0))
    np.testing.assert_array_equal(mask, truth)


def test_opening_cuts_thin_bridges():
    t1, t2, pd = box_maps((60, 40, 4))
    for m, v in ((t1, 4000.0), (t2, 1500.0), (pd, 100.0)):
        m[35:40, 19:21] = v  # a 2-voxel bridge to a blob
        m[40:55, 10:30] = v
    mask = intracranial_mask(t1, t2, pd, voxel_size=(1.0, 1.0, 4.0))
    assert mask[20, 20].all() and not mask[45, 20].any() and not mask[38, 20].any()
    # the reconstruction restores the corners the opening rounded off, within the tissue
    assert mask[5, 5].all() and not mask[35, 17].any()


def test_empty_and_bad_input():
    zeros = np.zeros((8, 8, 3))
    assert not intracranial_mask(zeros, zeros, zeros).any()
    t1, t2, pd = box_maps()
    with pytest.raises(ValueError, match="voxel_size"):
        intracranial_mask(t1, t2, pd, voxel_size=(1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="3D"):
        intracranial_mask(t1[..., 0], t2[..., 0], pd[..., 0])
    with pytest.raises(ValueError, match="one shape"):
        intracranial_tissue(t1, t2[:3], pd)
    with pytest.raises(ValueError, match="pd_min"):
        MaskSettings(pd_min=-1)
    with pytest.raises(ValueError, match="opening_mm"):
        MaskSettings(opening_mm=float("nan"))
