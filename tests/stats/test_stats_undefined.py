"""Lesion metrics undefined for a subject (no lesion in either map) leave that subject out.

A cohort with a lesion-free test subject (a control, or a phantom subject whose lesions all lie
outside the imaged slab) used to make every lesion row of the statistics n/a. The subject is now
left out of that comparison in the tests, the summary and the normality tables alike, and the
note names it; any other NaN still makes its test NaN.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from synflair.stats import comparisons_table, normality_table, summary_table
from synflair.stats.analysis import METRIC_COLUMNS, split_undefined

SYNTHETIC = [0.41, 0.52, 0.33, 0.60, 0.47, 0.0]
# s5: neither the DL nor the conventional FLAIR lesion map has a lesion
DL = [0.45, 0.58, 0.30, 0.66, 0.55, math.nan]
EMPTY = "both lesion maps are empty"


def frame(dl=DL, note=EMPTY, region="lesions", metric="dice_conventional"):
    rows = []

    def add(subject, image, region, scaling, metric, value, note=""):
        rows.append(dict(subject=subject, image=image, region=region, scaling=scaling,
                         metric=metric, value=value, n_voxels=10, scale_factor=1.0,
                         note=note))  # fmt: skip

    for i, (syn, ours) in enumerate(zip(SYNTHETIC, dl, strict=True)):
        s = f"s{i}"
        add(s, "synthetic", "intracranial", "common", "psnr", 31.0 + i)
        add(s, "dl", "intracranial", "common", "psnr", 36.0 + 1.1 * i)
        scaling = "none" if region == "lesions" else "common"
        add(s, "synthetic", region, scaling, metric, syn)
        add(s, "dl", region, scaling, metric, ours, note if math.isnan(ours) else "")
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))


def _row(table, metric="dice_conventional", column="metric"):
    rows = table[table[column] == metric]
    assert len(rows) == 1
    return rows.iloc[0]


def test_undefined_dice_leaves_the_subject_out_of_test_and_summary():
    metrics = frame()
    tests = comparisons_table(metrics)
    row = _row(tests)
    assert row["n"] == 5
    assert row["mean_x"] == pytest.approx(np.mean(SYNTHETIC[:5]))
    assert row["mean_y"] == pytest.approx(np.mean(DL[:5]))
    # the same p as scipy's exact test on the 5 defined pairs (4 of 5 DL higher)
    expected = scipy_stats.wilcoxon(SYNTHETIC[:5], DL[:5], method="exact").pvalue
    assert row["p"] == pytest.approx(expected)
    assert "s5" in row["note"] and EMPTY in row["note"]
    summary = _row(summary_table(metrics, tests))
    assert summary["n"] == 5
    assert summary["baseline_mean"] == pytest.approx(np.mean(SYNTHETIC[:5]))
    assert summary["compare_mean"] == pytest.approx(np.mean(DL[:5]))
    assert summary["p"] == pytest.approx(expected)
    difference = normality_table(metrics).query("variable == 'synthetic - dl'")
    assert _row(difference)["n"] == 5


def test_a_nan_without_a_reason_still_makes_the_test_nan():
    tests = comparisons_table(frame(note=""))
    row = _row(tests)
    assert math.isnan(row["p"]) and "NaN" in row["note"]


def test_a_nan_outside_the_lesion_metrics_still_makes_the_test_nan():
    metrics = frame(region="WM", metric="psnr", note="mean of dl in the normalizer mask is not > 0")
    tests = comparisons_table(metrics)
    row = tests[(tests["region"] == "WM") & (tests["comparison"] == "synthetic vs dl")].iloc[0]
    assert math.isnan(row["p"])


def test_every_subject_undefined_keeps_a_row_that_says_why():
    metrics = frame(dl=[math.nan] * 6)
    tests = comparisons_table(metrics)
    row = _row(tests)
    assert row["n"] == 0 and math.isnan(row["p"])
    assert "s0" in row["note"] and "s5" in row["note"]
    summary = _row(summary_table(metrics, tests))
    assert summary["n"] == 0 and math.isnan(summary["compare_mean"])


def test_split_undefined_takes_only_lesion_nans_with_a_reason():
    metrics = frame()
    kept, undefined = split_undefined(metrics)
    assert list(undefined["subject"]) == ["s5"]
    assert len(kept) + len(undefined) == len(metrics)
    assert not kept["value"].isna().any()
