import math

import numpy as np
import pandas as pd
import pytest

from synflair.errors import SynflairError
from synflair.metrics import COLUMNS, MetricsConfig, psnr, region_masks, subject_metrics
from synflair.metrics.subject import DEFAULT_METRICS


@pytest.fixture
def subject():
    """A toy head: CSF/GM/WM slabs inside a box mask, conventional and two test images."""
    rng = np.random.default_rng(1)
    shape = (20, 20, 6)
    mask = np.zeros(shape, bool)
    mask[2:18, 2:18, 1:5] = True
    dseg = np.zeros(shape, np.int16)
    dseg[2:6] = 1
    dseg[6:11] = 2
    dseg[11:18] = 3
    dseg[~mask] = 0
    truth_intensity = np.select([dseg == 1, dseg == 2, dseg == 3], [200.0, 1500.0, 1100.0], 0.0)
    reference = truth_intensity + rng.normal(0, 30, shape) * mask
    synthetic = 0.01 * (truth_intensity * 1.3 + rng.normal(0, 120, shape) * mask)  # other units
    dl = truth_intensity + rng.normal(0, 60, shape) * mask
    lesions = {name: np.zeros(shape, bool) for name in ("synthetic", "dl", "conventional")}
    lesions["conventional"][12:14, 12:14, 2] = True
    lesions["dl"][12:14, 12:15, 2] = True
    lesions["synthetic"][12, 12, 2] = True
    lesions["synthetic"][16, 16, 3] = True
    return dict(reference=reference, images={"synthetic": synthetic, "dl": dl}, mask=mask,
                dseg=dseg, lesions=lesions)  # fmt: skip


def value(table, image, region, metric, scaling="common"):
    rows = table[(table["image"] == image) & (table["region"] == region)
                 & (table["metric"] == metric) & (table["scaling"] == scaling)]  # fmt: skip
    assert len(rows) == 1, (image, region, metric, scaling)
    return rows.iloc[0]


def test_table_layout_and_regions(subject):
    table = subject_metrics("01", subject["reference"], subject["images"], subject["mask"],
                            subject["dseg"])  # fmt: skip
    assert list(table.columns) == list(COLUMNS)
    # 2 scalings x (2 images x 4 regions x 3 metrics + reference 4 regions x 1 metric)
    assert len(table) == 2 * (2 * 4 * 3 + 4)
    assert set(table["region"]) == {"GM", "WM", "CSF", "intracranial"}
    gm = value(table, "dl", "GM", "psnr")
    assert gm["n_voxels"] == int(((subject["dseg"] == 2) & subject["mask"]).sum())
    assert (table["note"] == "").all()


def test_common_scaling_is_recorded_and_matches_manual_computation(subject):
    table = subject_metrics("01", subject["reference"], subject["images"], subject["mask"],
                            subject["dseg"])  # fmt: skip
    mask = subject["mask"]
    syn = subject["images"]["synthetic"]
    factor = 2000.0 / syn[mask].mean()
    row = value(table, "synthetic", "WM", "psnr")
    assert row["scale_factor"] == pytest.approx(factor)
    ref_factor = 2000.0 / subject["reference"][mask].mean()
    assert value(table, "conventional", "intracranial", "mean")["value"] == pytest.approx(2000.0)
    assert value(table, "conventional", "GM", "mean")["scale_factor"] == pytest.approx(ref_factor)
    wm = (subject["dseg"] == 3) & mask
    expected = psnr(syn * factor, subject["reference"] * ref_factor, wm)
    assert row["value"] == pytest.approx(expected, rel=1e-5)
    raw = value(table, "synthetic", "WM", "psnr", "raw")
    assert raw["scale_factor"] == 1.0
    assert raw["value"] == pytest.approx(psnr(syn, subject["reference"], wm), rel=1e-9)
    # Synthetic is in other units: raw PSNR is poor, common-scale PSNR sensible.
    assert raw["value"] < row["value"] - 10


def test_common_scale_metrics_do_not_depend_on_image_units(subject):
    base = subject_metrics("01", subject["reference"], subject["images"], subject["mask"],
                           subject["dseg"])  # fmt: skip
    images = {name: image * 37.0 for name, image in subject["images"].items()}
    scaled = subject_metrics("01", subject["reference"] * 0.2, images, subject["mask"],
                             subject["dseg"])  # fmt: skip
    common = base["scaling"] == "common"
    pick = common & base["metric"].isin(["psnr", "nrmse"])
    np.testing.assert_allclose(scaled.loc[pick, "value"], base.loc[pick, "value"], rtol=1e-4)


def test_nrmse_normalizer_choice(subject):
    args = (subject["reference"], subject["images"], subject["mask"], subject["dseg"])
    ic = subject_metrics("01", *args)
    region = subject_metrics("01", *args, config=MetricsConfig(nrmse_normalizer="region"))
    a = value(ic, "dl", "CSF", "nrmse")["value"]
    b = value(region, "dl", "CSF", "nrmse")["value"]
    csf_mean = value(ic, "dl", "CSF", "mean")["value"]
    ic_mean = value(ic, "dl", "intracranial", "mean")["value"]
    assert b == pytest.approx(a * ic_mean / csf_mean)
    assert b > 3 * a  # dark CSF: the region mean blows the NRMSE up
    same = value(region, "dl", "intracranial", "nrmse")["value"]
    assert same == pytest.approx(value(ic, "dl", "intracranial", "nrmse")["value"])


def test_lesion_rows(subject):
    truth = subject["lesions"]["conventional"].copy()
    table = subject_metrics("01", subject["reference"], subject["images"], subject["mask"],
                            subject["dseg"], lesions=subject["lesions"],
                            lesion_truth=truth)  # fmt: skip
    lesion = table[table["region"] == "lesions"]
    assert set(lesion["scaling"]) == {"none"}
    assert value(table, "dl", "lesions", "dice_conventional", "none")["value"] == pytest.approx(
        2 * 4 / (4 + 6)
    )
    assert value(table, "synthetic", "lesions", "dice_conventional", "none")["value"] == (
        pytest.approx(2 * 1 / (2 + 4))
    )
    assert value(table, "conventional", "lesions", "dice_truth", "none")["value"] == 1.0
    assert "dice_conventional" not in set(lesion[lesion["image"] == "conventional"]["metric"])
    fpr = value(table, "synthetic", "lesions", "lesion_fpr_conventional", "none")["value"]
    tpr = value(table, "synthetic", "lesions", "lesion_tpr_truth", "none")["value"]
    assert (fpr, tpr) == (0.5, 1.0)


def test_nan_rows_carry_reasons(subject):
    dseg = subject["dseg"].copy()
    dseg[dseg == 1] = 2  # no CSF label
    empty = {name: np.zeros_like(m) for name, m in subject["lesions"].items()}
    table = subject_metrics("01", subject["reference"], subject["images"], subject["mask"],
                            dseg, lesions=empty)  # fmt: skip
    csf = table[table["region"] == "CSF"]
    assert csf["value"].isna().all()
    assert csf["note"].str.startswith("empty region").all()
    assert (csf["n_voxels"] == 0).all()
    dice = value(table, "dl", "lesions", "dice_conventional", "none")
    assert math.isnan(dice["value"]) and dice["note"] == "both lesion maps are empty"
    tpr = value(table, "dl", "lesions", "lesion_tpr_conventional", "none")
    assert math.isnan(tpr["value"]) and "no true lesions" in tpr["note"]


def test_tsv_round_trip_keeps_nan_and_notes(subject, tmp_path):
    from synflair.atomic import write_tsv
    from synflair.stats import read_metrics

    dseg = subject["dseg"].copy()
    dseg[dseg == 1] = 2
    table = subject_metrics("007", subject["reference"], subject["images"], subject["mask"],
                            dseg)  # fmt: skip
    path = write_tsv(tmp_path / "m.tsv", table)
    back = read_metrics([path])
    assert (back["subject"] == "007").all()
    assert back["value"].isna().sum() == table["value"].isna().sum()
    pd.testing.assert_series_equal(back["note"], table["note"], check_names=False)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: s.update(mask=s["mask"][:-1]), "segmentation has shape"),
        (lambda s: s.update(mask=np.zeros_like(s["mask"])), "mask is empty"),
        (lambda s: s["images"].update(dl=s["images"]["dl"][:-1]), "dl has shape"),
        (lambda s: s["images"].update(dl=np.zeros_like(s["images"]["dl"])), "zero everywhere"),
        (lambda s: s.update(reference=np.where(s["mask"], np.nan, 0.0)), "NaN"),
        (lambda s: s.update(dseg=s["dseg"] + 4 * s["mask"]), r"label\(s\) \[5, 6, 7\]"),
        (lambda s: s.update(images={}), "no images"),
        (lambda s: s["images"].update(conventional=s["reference"]), "reserved"),
    ],
)
def test_bad_input(subject, change, match):
    change(subject)
    with pytest.raises(SynflairError, match=match):
        subject_metrics("01", subject["reference"], subject["images"], subject["mask"],
                        subject["dseg"])  # fmt: skip


def test_lesion_map_on_another_grid_is_an_error(subject):
    lesions = dict(subject["lesions"], dl=subject["lesions"]["dl"][:-1])
    with pytest.raises(SynflairError, match="lesion map 'dl' has shape"):
        subject_metrics("01", subject["reference"], subject["images"], subject["mask"],
                        subject["dseg"], lesions=lesions)  # fmt: skip


def test_region_masks_and_config_validation(subject):
    regions = region_masks(subject["dseg"], subject["mask"])
    assert list(regions) == ["GM", "WM", "CSF", "intracranial"]
    union = regions["GM"] | regions["WM"] | regions["CSF"]
    np.testing.assert_array_equal(union, regions["intracranial"])
    with pytest.raises(SynflairError, match="integers"):
        region_masks(subject["dseg"] + 0.5, subject["mask"])
    with pytest.raises(ValueError, match="scalings"):
        MetricsConfig(scalings=("log",))
    with pytest.raises(ValueError, match="nrmse_normalizer"):
        MetricsConfig(nrmse_normalizer="global")
    with pytest.raises(ValueError, match="peak"):
        MetricsConfig(peak=-1.0)
    assert DEFAULT_METRICS.peak == 25500.0
