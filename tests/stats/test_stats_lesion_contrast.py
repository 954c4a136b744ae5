import numpy as np
import pandas as pd
import pytest

from synflair.stats import comparisons_table, normality_table, summary_table
from synflair.stats.analysis import METRIC_COLUMNS


def frame(n=6):
    """PSNR rows plus lesion Dice and lesion-contrast rows; DL keeps 0.95, synthetic 1.02."""
    rng = np.random.default_rng(3)
    rows = []

    def add(subject, image, region, scaling, metric, value):
        rows.append(dict(subject=subject, image=image, region=region, scaling=scaling,
                         metric=metric, value=value, n_voxels=10, scale_factor=1.0,
                         note=""))  # fmt: skip

    for i in range(n):
        s = f"s{i}"
        for image, psnr in (("synthetic", 31.0), ("dl", 36.0)):
            add(s, image, "intracranial", "common", "psnr", psnr + rng.normal(0, 0.3))
            add(s, image, "lesions", "none", "dice_conventional", 0.6 + rng.normal(0, 0.05))
        add(s, "synthetic", "lesions", "none", "lesion_contrast_conventional", 1.02 + 0.01 * i)
        add(s, "dl", "lesions", "none", "lesion_contrast_conventional", 0.95 - 0.01 * i)
        add(s, "synthetic", "lesions", "none", "lesion_ratio_conventional", 1.8)
        add(s, "conventional", "lesions", "none", "lesion_ratio_conventional", 1.76)
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))


def test_lesion_contrast_is_tested_and_tabulated_after_dice():
    metrics = frame()
    tests = comparisons_table(metrics)
    contrast = tests[tests["metric"] == "lesion_contrast_conventional"]
    assert len(contrast) == 1
    row = contrast.iloc[0]
    assert row["comparison"] == "synthetic vs dl" and row["scaling"] == "none"
    assert row["n"] == 6 and row["p"] == pytest.approx(2 / 64)  # DL lower in all 6
    assert row["mean_x"] == pytest.approx(np.mean([1.02 + 0.01 * i for i in range(6)]))
    # ratios are descriptive, not compared between images
    assert "lesion_ratio_conventional" not in set(tests["metric"])
    summary = summary_table(metrics, tests)
    lesions = summary[summary["region"] == "lesions"]
    assert list(lesions["metric"]) == ["dice_conventional", "lesion_contrast_conventional"]
    kept = lesions[lesions["metric"] == "lesion_contrast_conventional"].iloc[0]
    assert kept["compare_mean"] == pytest.approx(np.mean([0.95 - 0.01 * i for i in range(6)]))
    normality = normality_table(metrics)
    rows = normality[normality["metric"] == "lesion_contrast_conventional"]
    assert set(rows["scaling"]) == {"none"} and len(rows) == 3  # 2 images + the difference
