"""Loss curves of training, without torch: for ``losses.png`` and for the report.

One implementation: :func:`synflair.train.progress.plot_losses` draws
``losses.png`` with it, and the report's training figure is the same function
over both stages' ``losses.tsv``.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["LOSS_COLUMNS", "loss_figure"]

#: Columns of ``losses.tsv`` after ``stage`` and ``iteration``.
LOSS_COLUMNS = ("g_loss", "d_loss", "mae_target", "mae_conventional", "d_real", "d_fake")


def loss_figure(frames: list[pd.DataFrame]):
    """Loss curves, one row of two panels per training stage (a matplotlib Figure).

    Left: the G and D losses. Right: the MAE of G against both FLAIRs (training
    units). The ``stage`` column is a label, never a curve; the D probabilities
    are left to the table (they are near 0.5 by design and would flatten the axes).

    Parameters
    ----------
    frames : list of pandas.DataFrame
        ``losses.tsv`` tables (columns ``stage, iteration`` and :data:`LOSS_COLUMNS`).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    if not frames:
        raise ValueError("loss_figure needs at least one losses table")
    figure = Figure(figsize=(9, 3.2 * len(frames)), layout="constrained")
    axes = figure.subplots(len(frames), 2, squeeze=False)
    for row, frame in zip(axes, frames, strict=True):
        missing = [c for c in ("iteration", *LOSS_COLUMNS) if c not in frame]
        if missing:
            raise ValueError(f"losses table lacks the column(s) {missing}")
        stage = int(frame["stage"].iloc[0]) if "stage" in frame and len(frame) else 0
        x = frame["iteration"]
        row[0].plot(x, frame["g_loss"], label="G loss")
        row[0].plot(x, frame["d_loss"], label="D loss")
        row[0].set_title(f"stage {stage}: losses")
        row[1].plot(x, frame["mae_target"], label="vs CSF-suppressed synthetic")
        row[1].plot(x, frame["mae_conventional"], label="vs conventional")
        row[1].set_title(f"stage {stage}: MAE of G (training units)")
        for ax in row:
            ax.set_xlabel("iteration")
            ax.legend(loc="best", fontsize="small")
            ax.grid(alpha=0.3)
    return figure
