"""Readable names for the report: images, regions, metrics and the columns of the test tables.

Defined once here; every table and figure of the report takes its labels from
this module. The raw TSVs (``results/stats``) keep their machine names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Image names of the workflow -> how the report names them.
IMAGE_NAMES = {
    "synthetic": "Synthetic FLAIR",
    "dl": "DL-FLAIR",
    "stage1": "DL-FLAIR (stage 1)",
    "conventional": "Conventional FLAIR",
}
#: Short image names for column headers.
IMAGE_SHORT = {"synthetic": "Synthetic", "dl": "DL", "stage1": "Stage 1", "conventional": "Conv."}
METRIC_NAMES = {
    "psnr": "PSNR (dB)",
    "nrmse": "NRMSE",
    "dice_conventional": "Dice vs conventional FLAIR's lesions",
    "dice_truth": "Dice vs phantom truth",
    "lesion_contrast_conventional": "Lesion contrast (conventional FLAIR's lesions)",
    "lesion_contrast_truth": "Lesion contrast (phantom truth)",
}
#: For each quality metric, whether larger is better.
HIGHER_IS_BETTER = {"psnr": True, "nrmse": False}


def image_name(name: str) -> str:
    """``"dl"`` -> ``"DL-FLAIR"`` (unknown names unchanged)."""
    return IMAGE_NAMES.get(name, name)


def metric_name(name: str) -> str:
    """``"psnr"`` -> ``"PSNR (dB)"`` (unknown names unchanged)."""
    return METRIC_NAMES.get(name, name)


def _split(comparison: str) -> tuple[str, str]:
    first, _, second = str(comparison).partition(" vs ")
    return first, second


#: Columns of ``results/stats/table.tsv`` -> the report's names.
TABLE_COLUMNS = {
    "region": "Region",
    "metric": "Metric",
    "n": "n (pairs)",
    "synthetic": "Synthetic FLAIR (mean ± SD)",
    "dl": "DL-FLAIR (mean ± SD)",
    "percent_change": "Change of the means (DL vs synthetic)",
    "p": "p (two-sided Wilcoxon)",
    "method": "Test",
    "note": "Note",
}


def summary_table(table: pd.DataFrame, reasons: dict[str, str] | None = None) -> pd.DataFrame:
    """``table.tsv`` with readable columns; ``reasons`` (per metric) explain an n/a p."""
    out = table.copy()
    out["note"] = out["note"].fillna("")
    for metric, reason in (reasons or {}).items():
        if reason:
            out.loc[(out["metric"] == metric) & out["p"].isna(), "note"] = reason
    out["metric"] = out["metric"].map(metric_name)
    return out.rename(columns=TABLE_COLUMNS)


def _flip(value: float) -> float:
    return 0.0 - value  # -0.0 would print as "-0"


def image_tests(
    tests: pd.DataFrame, baseline: str = "synthetic", reasons: dict[str, str] | None = None
) -> dict[str, pd.DataFrame]:
    """Baseline-vs-image tests, one table per compared image, with readable columns.

    ``tests.tsv`` states each comparison ``x vs y`` with ``x`` the baseline, and its
    ``median_difference`` and ``rank_biserial`` are of ``x - y``; here they are turned
    round (``y - x``), so a positive difference means the compared image (e.g.
    DL-FLAIR) is higher than synthetic FLAIR. ``reasons`` replaces, per metric, the
    note of a test that was not computed (e.g. why lesion Dice is undefined).
    """
    reasons = reasons or {}
    rows = tests[tests["comparison"].astype(str).str.startswith(f"{baseline} vs ")]
    tables = {}
    for comparison, group in rows.groupby("comparison", sort=False):
        _, other = _split(comparison)
        base, comp = IMAGE_SHORT.get(baseline, baseline), IMAGE_SHORT.get(other, other)
        columns = {
            "mean_x": f"{base} mean",
            "mean_y": f"{comp} mean",
            "median_difference": f"Median difference ({comp} − {base.lower()})",
            "p": "p (two-sided Wilcoxon)",
            "method": "Test",
            "rank_biserial": f"Rank-biserial r (+: {comp} higher)",
        }
        out = []
        for row in group.itertuples(index=False):
            note = row.note if isinstance(row.note, str) else ""
            if not np.isfinite(row.p) and reasons.get(row.metric):
                note = reasons[row.metric]
            out.append({
                "Region": row.region,
                "Metric": metric_name(row.metric),
                "n (pairs)": row.n,
                columns["mean_x"]: row.mean_x,
                columns["mean_y"]: row.mean_y,
                columns["median_difference"]: _flip(row.median_difference),
                columns["p"]: row.p,
                columns["method"]: row.method,
                columns["rank_biserial"]: _flip(row.rank_biserial),
                "Note": note,
            })  # fmt: skip
        tables[other] = pd.DataFrame(out)
    return tables


def tissue_tests(tests: pd.DataFrame) -> pd.DataFrame:
    """Tissue-vs-tissue tests within each image, readable; differences as first minus second."""
    rows = tests[tests["region"].astype(str).str.contains(" vs ")]
    out = [
        {
            "Image": image_name(row.image),
            "Regions": row.region,
            "Metric": metric_name(row.metric),
            "n (pairs)": row.n,
            "First region mean": row.mean_x,
            "Second region mean": row.mean_y,
            "Median difference (first − second)": row.median_difference,
            "p (two-sided Wilcoxon)": row.p,
            "Test": row.method,
            "Rank-biserial r (+: first higher)": row.rank_biserial,
            "Note": row.note if isinstance(row.note, str) else "",
        }
        for row in rows.itertuples(index=False)
    ]
    return pd.DataFrame(out)


def normality(frame: pd.DataFrame) -> pd.DataFrame:
    """Shapiro-Wilk table with readable columns."""
    out = frame.rename(
        columns={
            "variable": "Variable",
            "image": "Image",
            "region": "Region",
            "metric": "Metric",
            "scaling": "Scaling",
            "n": "n",
            "W": "Shapiro-Wilk W",
            "p": "p",
            "note": "Note",
        }
    ).copy()
    out["Metric"] = out["Metric"].map(metric_name)
    out["Note"] = out["Note"].fillna("")
    return out


def format_number(value, digits: int = 4) -> str:
    """``digits`` significant digits; ``"n/a"`` for NaN (callers add the reason)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}g}"
