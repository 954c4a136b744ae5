import numpy as np
import pandas as pd
import pytest

from synflair.errors import SynflairError
from synflair.stats import (
    PAPER_DICE,
    PAPER_TABLE,
    StatsConfig,
    comparisons_table,
    normality_table,
    read_metrics,
    run_statistics,
    summary_table,
)
from synflair.stats.analysis import METRIC_COLUMNS

REGIONS = ("GM", "WM", "CSF", "intracranial")
# Paper-like per-region means: PSNR (synthetic, dl) and NRMSE (synthetic, dl).
PSNR = {"GM": (27.0, 34.0), "WM": (29.5, 35.5), "CSF": (34.8, 40.5), "intracranial": (29.8, 36.0)}
NRMSE = {"GM": (0.47, 0.33), "WM": (0.37, 0.27), "CSF": (0.29, 0.21), "intracranial": (0.38, 0.27)}


def subject_rows(subject: str, rng: np.random.Generator) -> list[dict]:
    rows = []

    def add(image, region, scaling, metric, value, note=""):
        rows.append(dict(subject=subject, image=image, region=region, scaling=scaling,
                         metric=metric, value=value, n_voxels=100, scale_factor=1.0,
                         note=note))  # fmt: skip

    for scaling, offset in (("raw", -3.0), ("common", 0.0)):
        for region in REGIONS:
            for i, image in enumerate(("synthetic", "dl")):
                add(image, region, scaling, "psnr", PSNR[region][i] + offset + rng.normal(0, 0.5))
                add(image, region, scaling, "nrmse", NRMSE[region][i] + rng.normal(0, 0.02))
            add("stage1", region, scaling, "psnr", PSNR[region][1] - 1 + rng.normal(0, 0.5))
            add("stage1", region, scaling, "nrmse", NRMSE[region][1] + rng.normal(0, 0.02))
            add("conventional", region, scaling, "mean", 2000.0)
    for image, mean in (("synthetic", 0.55), ("dl", 0.57), ("stage1", 0.56)):
        add(image, "lesions", "none", "dice_conventional", mean + rng.normal(0, 0.1))
        add(image, "lesions", "none", "dice_truth", mean + rng.normal(0, 0.1))
    add("conventional", "lesions", "none", "dice_truth", 0.8)
    return rows


def cohort(n: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [row for i in range(n) for row in subject_rows(f"{i:02d}", rng)]
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))


def test_synthetic_vs_dl_tests_are_exact_and_minimal_with_ten_subjects():
    tests = comparisons_table(cohort())
    between = tests[tests["comparison"] == "synthetic vs dl"]
    image_rows = between[between["region"] != "lesions"]
    assert len(image_rows) == 8  # 4 regions x 2 metrics
    assert (image_rows["n"] == 10).all()
    assert (image_rows["method"] == "exact").all()
    # DL is better in every subject: the smallest exact two-sided p for n = 10.
    np.testing.assert_allclose(image_rows["p"], 2 / 1024)
    psnr = image_rows[image_rows["metric"] == "psnr"]
    assert (psnr["statistic"] == 0).all() and (psnr["rank_biserial"] == -1).all()
    assert (psnr["mean_x"] < psnr["mean_y"]).all()
    # stage 1 is compared with the baseline too, and tissue pairs within each image.
    assert (tests["comparison"] == "synthetic vs stage1").sum() == 8 + 2
    within = tests[tests["comparison"] == "GM vs WM"]
    assert set(within["image"]) == {"synthetic", "dl", "stage1"}
    assert len(tests[tests["comparison"].isin(["GM vs WM", "GM vs CSF", "WM vs CSF"])]) == 18
    dice = between[between["region"] == "lesions"]
    assert set(dice["metric"]) == {"dice_conventional", "dice_truth"}
    assert (dice["scaling"] == "none").all()
    assert (tests["note"] == "").all()


def test_scaling_selects_rows():
    frame = cohort()
    common = comparisons_table(frame, StatsConfig(scaling="common"))
    raw = comparisons_table(frame, StatsConfig(scaling="raw"))
    pick = (common["comparison"] == "synthetic vs dl") & (common["metric"] == "psnr")
    assert (raw.loc[pick, "mean_x"] < common.loc[pick, "mean_x"] - 2).all()
    with pytest.raises(SynflairError, match="no metrics with scaling 'scaled'"):
        comparisons_table(frame, StatsConfig(scaling="scaled"))


def test_fewer_than_two_subjects_and_nan_give_rows_with_reasons():
    one = comparisons_table(cohort(n=1))
    assert len(one) > 0
    assert one["p"].isna().all()
    assert one["note"].str.contains("fewer than 2 pairs").all()

    frame = cohort()
    hit = (frame["subject"] == "03") & (frame["region"] == "CSF") & (frame["image"] == "dl")
    frame.loc[hit & (frame["metric"] == "psnr"), ["value", "note"]] = [np.nan, "empty region"]
    tests = comparisons_table(frame)
    row = tests[(tests["comparison"] == "synthetic vs dl") & (tests["region"] == "CSF")
                & (tests["metric"] == "psnr")].iloc[0]  # fmt: skip
    assert np.isnan(row["p"]) and "NaN" in row["note"]
    omitted = comparisons_table(frame, StatsConfig(nan_policy="omit"))
    row = omitted[(omitted["comparison"] == "synthetic vs dl") & (omitted["region"] == "CSF")
                  & (omitted["metric"] == "psnr")].iloc[0]  # fmt: skip
    assert row["n"] == 9 and row["p"] == 2 / 512 and "dropped" in row["note"]


def test_subject_missing_for_one_image_is_left_out_and_noted():
    frame = cohort()
    frame = frame[~((frame["subject"] == "05") & (frame["image"] == "dl"))]
    tests = comparisons_table(frame)
    row = tests[(tests["comparison"] == "synthetic vs dl") & (tests["region"] == "GM")].iloc[0]
    assert row["n"] == 9
    assert "no dl value for subject(s) ['05']" in row["note"]


def test_missing_baseline_is_an_error():
    frame = cohort()
    with pytest.raises(SynflairError, match="baseline image 'vendor'"):
        comparisons_table(frame, StatsConfig(baseline="vendor"))


def test_normality_table_has_images_and_differences():
    normality = normality_table(cohort())
    gm = normality[(normality["region"] == "GM") & (normality["metric"] == "psnr")]
    assert set(gm["variable"]) == {"synthetic", "dl", "stage1", "synthetic - dl",
                                   "synthetic - stage1"}  # fmt: skip
    assert (gm["n"] == 10).all() and gm["W"].between(0, 1).all()
    few = normality_table(cohort(n=2))
    assert few["W"].isna().all() and few["note"].str.contains("fewer than 3").all()


def test_summary_table_means_percent_change_and_exact_p():
    frame = cohort()
    tests = comparisons_table(frame)
    summary = summary_table(frame, tests)
    assert list(summary["region"][:8]) == ["GM", "GM", "WM", "WM", "CSF", "CSF",
                                          "intracranial", "intracranial"]  # fmt: skip
    row = summary[(summary["region"] == "WM") & (summary["metric"] == "psnr")].iloc[0]
    values = frame[(frame["region"] == "WM") & (frame["metric"] == "psnr")
                   & (frame["scaling"] == "common")]  # fmt: skip
    syn = values[values["image"] == "synthetic"]["value"]
    dl = values[values["image"] == "dl"]["value"]
    assert row["baseline_mean"] == pytest.approx(syn.mean())
    assert row["baseline_sd"] == pytest.approx(syn.std(ddof=1))
    assert row["percent_change"] == pytest.approx(100 * (dl.mean() - syn.mean()) / syn.mean())
    assert row["p"] == 2 / 1024 and row["method"] == "exact"
    dice = summary[summary["region"] == "lesions"]
    assert list(dice["metric"]) == ["dice_conventional", "dice_truth"]


def test_run_statistics_writes_three_tables_from_per_subject_files(tmp_path):
    frame = cohort()
    paths = []
    for subject, rows in frame.groupby("subject"):
        path = tmp_path / f"sub-{subject}_metrics.tsv"
        rows.to_csv(path, sep="\t", index=False, na_rep="n/a")
        paths.append(path)
    out = run_statistics(paths, tmp_path / "stats")
    table = pd.read_csv(out["table"], sep="\t", keep_default_na=False, dtype=str)
    assert list(table.columns) == ["region", "metric", "n", "synthetic", "dl",
                                   "percent_change", "p", "method", "note"]  # fmt: skip
    gm = table[(table["region"] == "GM") & (table["metric"] == "psnr")].iloc[0]
    assert " ± " in gm["synthetic"] and gm["percent_change"].startswith("+")
    assert gm["p"] == "0.001953" and gm["method"] == "exact"
    tests = pd.read_csv(out["tests"], sep="\t")
    assert len(tests) == len(comparisons_table(frame))
    normality = pd.read_csv(out["normality"], sep="\t")
    assert {"variable", "W", "p", "note"} <= set(normality.columns)
    # The subject column stays a string ("03", not 3).
    assert set(read_metrics(paths)["subject"]) == {f"{i:02d}" for i in range(10)}


def test_read_metrics_errors_name_the_file(tmp_path):
    with pytest.raises(SynflairError, match=r"missing\.tsv: no such file; expected a metrics"):
        read_metrics([tmp_path / "missing.tsv"])
    bad = tmp_path / "bad.tsv"
    bad.write_text("subject\tvalue\n01\t3\n")
    with pytest.raises(SynflairError, match=r"bad.tsv: missing column\(s\)"):
        read_metrics([bad])
    good = tmp_path / "good.tsv"
    cohort(n=1).to_csv(good, sep="\t", index=False)
    with pytest.raises(SynflairError, match="given twice"):
        read_metrics([good, good])
    with pytest.raises(SynflairError, match="no metrics files"):
        read_metrics([])


def test_config_validation():
    with pytest.raises(ValueError, match="compare must differ"):
        StatsConfig(baseline="dl", compare="dl")
    with pytest.raises(ValueError, match="metrics must be"):
        StatsConfig(metrics=())
    with pytest.raises(ValueError, match="nan_policy"):
        StatsConfig(nan_policy="drop")


def test_paper_reference_values():
    rows = pd.DataFrame(PAPER_TABLE)
    assert len(rows) == 9
    gm = rows[(rows["region"] == "GM") & (rows["metric"] == "psnr")].iloc[0]
    assert (gm["synthetic_mean"], gm["dl_mean"]) == (27.16, 34.03)
    assert PAPER_DICE["synthetic"] == (0.55, 0.14) and PAPER_DICE["dl"] == (0.57, 0.17)
    # Printed percent changes are those of the means to within the paper's rounding.
    image = rows[rows["region"] != "lesions"]
    change = 100 * (image["dl_mean"] - image["synthetic_mean"]) / image["synthetic_mean"]
    np.testing.assert_allclose(change, image["percent_change"], atol=2.5)


def test_table_without_the_compared_image_summarizes_the_baseline():
    frame = cohort()
    frame = frame[frame["image"] != "dl"]
    tests = comparisons_table(frame)
    summary = summary_table(frame, tests)
    gm = summary[(summary["region"] == "GM") & (summary["metric"] == "psnr")].iloc[0]
    assert gm["n"] == 0 and np.isfinite(gm["baseline_mean"]) and np.isnan(gm["compare_mean"])
    assert gm["note"] == "no dl values" and np.isnan(gm["p"])
