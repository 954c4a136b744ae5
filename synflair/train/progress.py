"""Training progress: the loss log (``losses.tsv``) and the loss curves (``losses.png``, report).

Losses are accumulated on the training device and read back only every
``log_every`` iterations, so logging does not synchronize a GPU each step.
Each row of ``losses.tsv`` is the mean over the ``log_every`` iterations that
end at ``iteration``:

=====================  ===================================================
``g_loss``             the generator's loss (stage 1: MAE; stage 2: adversarial)
``d_loss``             the discriminator's loss (per-pixel BCE)
``mae_target``         MAE of G against the CSF-suppressed synthetic FLAIR
``mae_conventional``   MAE of G against the conventional FLAIR
``d_real``, ``d_fake``  mean D probability (full resolution) on real / generated
=====================  ===================================================

MAEs are in training units (FLAIR on the common scale / ``target_divisor``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import torch

from synflair.atomic import atomic_output, write_tsv

__all__ = ["LOSS_COLUMNS", "LossLog", "loss_figure", "loss_summary", "plot_losses"]

#: Columns of ``losses.tsv`` after ``stage`` and ``iteration``.
LOSS_COLUMNS = ("g_loss", "d_loss", "mae_target", "mae_conventional", "d_real", "d_fake")


class LossLog:
    """Running sums of the losses and the table of logged means.

    Parameters
    ----------
    stage : int
    device : torch.device
        Where the running sums live (the training device).
    """

    def __init__(self, stage: int, device: torch.device | str = "cpu") -> None:
        self.stage = stage
        self.device = torch.device(device)
        self.sums = torch.zeros(len(LOSS_COLUMNS), dtype=torch.float64, device=self.device)
        self.count = 0
        self.rows: list[list[float]] = []

    def add(self, values: dict[str, torch.Tensor]) -> None:
        """Accumulate one iteration's scalar tensors (keys: :data:`LOSS_COLUMNS`)."""
        missing = [k for k in LOSS_COLUMNS if k not in values]
        if missing:
            raise ValueError(f"loss values lack {missing}")
        stacked = torch.stack([values[k].detach().to(torch.float64) for k in LOSS_COLUMNS])
        self.sums += stacked
        self.count += 1

    def flush(self, iteration: int) -> dict[str, float] | None:
        """Append the means since the last flush as the row of ``iteration``; return it."""
        if self.count == 0:
            return None
        means = (self.sums / self.count).tolist()
        self.rows.append([float(iteration), *means])
        self.sums.zero_()
        self.count = 0
        return dict(zip(LOSS_COLUMNS, means, strict=True))

    def frame(self) -> pd.DataFrame:
        """The logged rows: ``stage, iteration`` and :data:`LOSS_COLUMNS`."""
        frame = pd.DataFrame(self.rows, columns=["iteration", *LOSS_COLUMNS])
        frame["iteration"] = frame["iteration"].astype(int)
        frame.insert(0, "stage", self.stage)
        return frame

    def state(self) -> dict:
        """Checkpointable state (CPU tensors and numbers)."""
        return {
            "rows": torch.tensor(self.rows, dtype=torch.float64).reshape(-1, len(LOSS_COLUMNS) + 1),
            "sums": self.sums.cpu().clone(),
            "count": self.count,
        }

    def load_state(self, state: dict) -> None:
        """Restore :meth:`state`."""
        self.rows = [list(map(float, row)) for row in state["rows"].tolist()]
        self.sums = state["sums"].to(device=self.device, dtype=torch.float64).clone()
        self.count = int(state["count"])

    def write(self, workdir: str | os.PathLike, *, plot: bool = True) -> list[Path]:
        """Write ``losses.tsv`` and, if ``plot``, ``losses.png`` into ``workdir`` (atomically)."""
        workdir = Path(workdir)
        frame = self.frame()
        written = [write_tsv(workdir / "losses.tsv", frame)]
        if plot:
            written.append(plot_losses(frame, workdir / "losses.png"))
        return written


def loss_summary(row: dict[str, float]) -> str:
    """One log line's losses: ``g_loss 0.1234, d_loss 0.6931, ...``."""
    return ", ".join(f"{k} {v:.4g}" for k, v in row.items())


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


def plot_losses(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Loss curves (G and D losses; MAEs against both FLAIRs) as a PNG, atomically."""
    figure = loss_figure([frame])
    with atomic_output(path) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    return Path(path)
