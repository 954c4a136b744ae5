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
from synflair.train.curves import LOSS_COLUMNS, loss_figure

__all__ = ["LOSS_COLUMNS", "LossLog", "loss_figure", "loss_summary", "plot_losses"]


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


def plot_losses(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Loss curves (:func:`synflair.train.curves.loss_figure`) as a PNG, atomically."""
    figure = loss_figure([frame])
    with atomic_output(path) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    return Path(path)
