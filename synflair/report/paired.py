"""The paired result: one line per subject from synthetic FLAIR to DL-FLAIR, per region and metric.

The paper's Wilcoxon signed-rank test compares pairs; mean ± SD hides them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synflair.report.labels import IMAGE_SHORT, metric_name

REGIONS = ("intracranial", "GM", "WM", "CSF")
METRICS = ("psnr", "nrmse")


def paired_values(
    metrics: pd.DataFrame, region: str, metric: str, images=("synthetic", "dl"), scaling="common"
) -> pd.DataFrame:
    """Per-subject values of ``images`` (columns), subjects with all of them (index)."""
    rows = metrics[
        (metrics["region"] == region)
        & (metrics["metric"] == metric)
        & (metrics["image"].isin(images))
    ]
    if "scaling" in rows and scaling in set(rows["scaling"]):
        rows = rows[rows["scaling"] == scaling]
    table = rows.pivot_table(index="subject", columns="image", values="value", aggfunc="first")
    return table.reindex(columns=list(images)).dropna()


def paired_plot(
    metrics: pd.DataFrame,
    images=("synthetic", "dl"),
    regions=REGIONS,
    metrics_shown=METRICS,
    scaling: str = "common",
):
    """A grid (metric x region) of paired plots: a line per subject from one image to the next.

    Lines going the better way (PSNR up, NRMSE down) are blue, the others red.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(metrics_shown),
        len(regions),
        figsize=(2.6 * len(regions), 2.8 * len(metrics_shown)),
        squeeze=False,
        layout="constrained",
    )
    x = np.arange(len(images))
    for row, metric in zip(axes, metrics_shown, strict=True):
        for ax, region in zip(row, regions, strict=True):
            table = paired_values(metrics, region, metric, images, scaling)
            higher_better = metric != "nrmse"
            for subject, values in table.iterrows():
                y = values.to_numpy(float)
                better = (y[-1] > y[0]) == higher_better
                ax.plot(x, y, "o-", color="#1f77b4" if better else "#d62728", lw=1, ms=3)
                ax.annotate(
                    f"sub-{subject}",
                    (x[-1], y[-1]),
                    xytext=(4, 0),
                    textcoords="offset points",
                    fontsize=6,
                    va="center",
                )
            ax.set_xticks(x, [IMAGE_SHORT.get(i, i) for i in images])
            ax.set_xlim(-0.3, len(images) - 0.4)
            ax.set_title(f"{region}: {metric_name(metric)} (n = {len(table)})", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    return fig
