import math

import numpy as np
import pytest

from synflair.metrics import subject_metrics
from synflair.metrics.contrast import lesion_nawm_ratio, nawm_mask


def head():
    """WM box (label 3) inside a mask, one 3x3x2 lesion, a ring of partial volume around it."""
    shape = (24, 24, 5)
    mask = np.zeros(shape, bool)
    mask[2:22, 2:22, :] = True
    dseg = np.where(mask, 3, 0).astype(np.int16)
    dseg[2:5] = 2  # a GM slab, never NAWM
    lesion = np.zeros(shape, bool)
    lesion[10:13, 10:13, 1:3] = True
    ring = np.zeros(shape, bool)
    ring[8:15, 8:15, 1:3] = True
    ring &= ~lesion
    return mask, dseg, lesion, ring


def test_nawm_excludes_gm_lesions_and_their_in_plane_margin():
    mask, dseg, lesion, ring = head()
    nawm = nawm_mask(dseg, mask, lesion, margin=2)
    assert not (nawm & lesion).any()
    assert not (nawm & ring).any()  # the 2-voxel in-plane margin is removed
    assert not nawm[2:5].any()  # GM
    # the margin is in-plane only: the slices above and below the lesion stay NAWM
    assert nawm[11, 11, 0] and nawm[11, 11, 3]
    assert nawm[11, 15, 1]  # 3 voxels from the lesion: normal
    assert nawm_mask(dseg, mask, lesion, margin=0)[9, 9, 1]
    with pytest.raises(ValueError, match="margin"):
        nawm_mask(dseg, mask, lesion, margin=-1)


def test_ratio_uses_nawm_only_and_is_scale_free():
    mask, dseg, lesion, ring = head()
    image = np.where(mask, 1000.0, 0.0)
    image[lesion] = 1800.0
    image[ring] = 5000.0  # partial volume around the lesion, excluded from NAWM
    image[2:5] = 9000.0  # GM, excluded
    nawm = nawm_mask(dseg, mask, lesion)
    assert lesion_nawm_ratio(image, lesion, nawm) == pytest.approx(1.8)
    assert lesion_nawm_ratio(3.7 * image, lesion, nawm) == pytest.approx(1.8)
    few = np.zeros_like(lesion)
    few[10, 10, 1] = True
    assert math.isnan(lesion_nawm_ratio(image, few, nawm))
    assert math.isnan(lesion_nawm_ratio(image, lesion, np.zeros_like(nawm)))


def test_subject_metrics_lesion_contrast_rows():
    mask, dseg, lesion, _ = head()
    reference = np.where(mask, 1000.0, 0.0)
    reference[lesion] = 1800.0
    erased = np.where(mask, 2.0, 0.0)  # another unit; lesions at NAWM level
    kept = 0.5 * reference  # lesion contrast of the reference
    truth = lesion.copy()
    truth[13, 10:13, 1:3] = True  # the truth is larger by one row at NAWM intensity
    table = subject_metrics(
        "s1", reference, {"erased": erased, "kept": kept}, mask, dseg,
        lesions={"conventional": lesion, "erased": np.zeros_like(lesion), "kept": lesion},
        lesion_truth=truth,
    )  # fmt: skip

    def get(image, metric):
        rows = table[(table["image"] == image) & (table["metric"] == metric)]
        assert len(rows) == 1, (image, metric)
        assert rows["region"].iloc[0] == "lesions" and rows["scaling"].iloc[0] == "none"
        return rows["value"].iloc[0]

    assert get("conventional", "lesion_ratio_conventional") == pytest.approx(1.8)
    assert get("erased", "lesion_ratio_conventional") == pytest.approx(1.0)
    assert get("erased", "lesion_contrast_conventional") == pytest.approx(1 / 1.8)
    assert get("kept", "lesion_contrast_conventional") == pytest.approx(1.0)
    # on the truth map (18 lesion + 6 normal voxels): reference ratio (18*1.8 + 6)/24 = 1.6
    assert get("conventional", "lesion_ratio_truth") == pytest.approx(1.6)
    assert get("erased", "lesion_contrast_truth") == pytest.approx(1 / 1.6)
    assert get("kept", "lesion_contrast_truth") == pytest.approx(1.0)
    # no contrast rows for the reference against itself
    assert table[(table["image"] == "conventional")
                 & (table["metric"] == "lesion_contrast_conventional")].empty  # fmt: skip


def test_no_lesions_gives_nan_with_a_note():
    mask, dseg, lesion, _ = head()
    reference = np.where(mask, 1000.0, 0.0)
    none = np.zeros_like(lesion)
    table = subject_metrics("s1", reference, {"dl": reference}, mask, dseg,
                            lesions={"conventional": none, "dl": none})  # fmt: skip
    rows = table[table["metric"] == "lesion_contrast_conventional"]
    assert len(rows) == 1 and math.isnan(rows["value"].iloc[0])
    assert "need 5 or more" in rows["note"].iloc[0]


def test_voxels_outside_the_reference_field_of_view_are_not_evaluated():
    """A registered reference is exactly 0 where it was not acquired: no reference there."""
    from synflair.metrics import MetricsConfig

    mask, dseg, _, _ = head()
    rng = np.random.default_rng(0)
    truth = np.where(mask, 1000.0, 0.0)
    reference = truth + rng.normal(0, 20, truth.shape) * mask
    reference[:, :, 4] = 0.0  # the top slice lies outside the reference's field of view
    image = truth + rng.normal(0, 20, truth.shape) * mask

    def psnr_row(config):
        table = subject_metrics("s", reference, {"dl": image}, mask, dseg, config=config)
        rows = table[(table["image"] == "dl") & (table["region"] == "intracranial")
                     & (table["metric"] == "psnr") & (table["scaling"] == "common")]  # fmt: skip
        return rows.iloc[0]

    inside = psnr_row(MetricsConfig())
    assert inside["n_voxels"] == mask[:, :, :4].sum()
    assert "outside the reference's field of view" in inside["note"]
    # only the noise is left: 20 / sqrt(2) apart per image, scaled to mean 2000 (x2)
    expected = 20 * np.log10(25500 / (2 * 20 * np.sqrt(2)))
    assert inside["value"] == pytest.approx(expected, abs=0.3)
    everything = psnr_row(MetricsConfig(reference_fov=False))
    assert everything["n_voxels"] == mask.sum()
    assert everything["value"] < inside["value"] - 10  # the missing slice dominates the error
