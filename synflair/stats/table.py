"""The paper's Table from this run: mean +- SD per region and metric, percent change, p.

Percent change is that of the means, ``100 (mean_dl - mean_synthetic) /
mean_synthetic`` (the paper does not say whether it averaged per-subject
changes; its GM PSNR, 27.16 -> 34.03, printed as +25.31%, is within rounding
of either). SD is the sample SD (``ddof = 1``, R's ``sd``). The p-value is the
exact value of the matching row of the tests table, never "P < .001".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synflair.stats.analysis import (
    DEFAULT_STATS,
    LESION_REGION,
    StatsConfig,
    dice_metrics,
    drop_undefined,
    select_scaling,
    split_undefined,
)

SUMMARY_COLUMNS = (
    "region",
    "metric",
    "n",
    "baseline_mean",
    "baseline_sd",
    "compare_mean",
    "compare_sd",
    "percent_change",
    "p",
    "method",
    "note",
)


def _stats(values: pd.Series) -> tuple[float, float]:
    values = values.to_numpy(dtype=float)
    if len(values) == 0 or not np.isfinite(values).all():
        return math.nan, math.nan
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
    return float(np.mean(values)), sd


def summary_table(
    metrics: pd.DataFrame, tests: pd.DataFrame, config: StatsConfig = DEFAULT_STATS
) -> pd.DataFrame:
    """Numeric paper-style table (columns :data:`SUMMARY_COLUMNS`).

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy per-subject metrics (all subjects).
    tests : pandas.DataFrame
        Output of :func:`~synflair.stats.analysis.comparisons_table` for the same ``config``.
    config : StatsConfig
        ``baseline`` and ``compare`` name the two image columns.

    Returns
    -------
    pandas.DataFrame
        One row per region in ``config.regions`` and metric in ``config.metrics`` that
        has values, then one row per lesion-Dice metric (region ``"lesions"``). Means and
        SDs are over the paired subjects (over each image's own subjects when there is no
        pair, e.g. DL-FLAIR missing), without the subjects for which a lesion metric is
        undefined (:func:`~synflair.stats.analysis.split_undefined`), as in the tests.
    """
    selected = select_scaling(metrics, config.scaling)
    frame, undefined = split_undefined(selected)
    comparison = f"{config.baseline} vs {config.compare}"
    rows = []
    keys = [(r, m) for r in config.regions for m in config.metrics]
    keys += [(LESION_REGION, m) for m in dice_metrics(selected)]
    for region, metric in keys:
        sub = frame[(frame["region"] == region) & (frame["metric"] == metric)]
        a = sub[sub["image"] == config.baseline].set_index("subject")["value"]
        b = sub[sub["image"] == config.compare].set_index("subject")["value"]
        images = (config.baseline, config.compare)
        a, b, left_out = drop_undefined(a, b, undefined, images, region, metric)
        if a.empty and b.empty and not left_out:
            continue
        paired = sorted(set(a.index) & set(b.index))
        # Without a single pair (one image missing), each column summarizes its own subjects.
        base_mean, base_sd = _stats(a.reindex(paired) if paired else a)
        comp_mean, comp_sd = _stats(b.reindex(paired) if paired else b)
        test = tests[
            (tests["comparison"] == comparison)
            & (tests["region"] == region)
            & (tests["metric"] == metric)
        ]
        missing = [name for name, v in ((config.baseline, a), (config.compare, b)) if v.empty]
        reason = f"no {' or '.join(missing)} values" if missing else "no paired test"
        p, method, note = (math.nan, "not computed", reason)
        if len(test):
            p, method, note = (test["p"].iloc[0], test["method"].iloc[0], test["note"].iloc[0])
        change = (
            100.0 * (comp_mean - base_mean) / base_mean
            if np.isfinite(base_mean) and base_mean != 0
            else math.nan
        )
        rows.append({
            "region": region, "metric": metric, "n": len(paired), "baseline_mean": base_mean,
            "baseline_sd": base_sd, "compare_mean": comp_mean, "compare_sd": comp_sd,
            "percent_change": change, "p": p, "method": method, "note": note,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def mean_sd(mean: float, sd: float) -> str:
    """``"27.16 ± 0.54"``: 4 significant digits for the mean, 2 for the SD."""
    if not np.isfinite(mean):
        return "n/a"
    if not np.isfinite(sd):
        return f"{mean:.4g}"
    return f"{mean:.4g} ± {sd:.2g}"


def format_p(p: float) -> str:
    """The exact p-value with 4 significant digits (``"0.001953"``), ``"n/a"`` for NaN."""
    return f"{p:.4g}" if np.isfinite(p) else "n/a"


def format_table(summary: pd.DataFrame, config: StatsConfig = DEFAULT_STATS) -> pd.DataFrame:
    """The table as written to ``table.tsv``.

    Columns: ``region, metric, n, <baseline>, <compare>, percent_change, p, method,
    note``; the image columns hold ``"mean ± SD"``, ``percent_change`` e.g. ``"+25.31%"``.
    """
    rows = []
    for row in summary.itertuples(index=False):
        change = "n/a" if not np.isfinite(row.percent_change) else f"{row.percent_change:+.2f}%"
        rows.append({
            "region": row.region, "metric": row.metric, "n": row.n,
            config.baseline: mean_sd(row.baseline_mean, row.baseline_sd),
            config.compare: mean_sd(row.compare_mean, row.compare_sd),
            "percent_change": change, "p": format_p(row.p), "method": row.method,
            "note": row.note,
        })  # fmt: skip
    columns = ["region", "metric", "n", config.baseline, config.compare]
    return pd.DataFrame(rows, columns=[*columns, "percent_change", "p", "method", "note"])
