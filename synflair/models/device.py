"""The torch device a job runs on, chosen and said aloud.

``auto`` is CUDA when torch can use a GPU, else the CPU; on a node where the
scheduler allocated a GPU that torch cannot use, the fallback to the CPU is a
warning that says why. :func:`describe_device` names what ran, in words, for
logs, model files and the report.
"""

from __future__ import annotations

import logging
import os

import torch

from synflair.errors import SynflairError

__all__ = ["describe_device", "gpu_allocated", "resolve_device"]

log = logging.getLogger(__name__)


def gpu_allocated() -> str | None:
    """Why this process looks like it was given a GPU (the scheduler's variables), or None."""
    for variable in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS"):
        value = os.environ.get(variable, "").strip()
        if value and value not in ("-1", "NoDevFiles"):
            return f"{variable}={value}"
    return None


def describe_device(device: torch.device) -> str:
    """The device that ran, in words: ``cuda:0 (NVIDIA H100 80GB HBM3)`` or ``cpu (...)``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    build = f"torch {torch.__version__}"
    build += f", CUDA {torch.version.cuda}" if torch.version.cuda else ", no CUDA build"
    return f"cpu ({build}, {torch.get_num_threads()} threads)"


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``.

    ``auto`` on a node where the scheduler allocated a GPU that torch cannot use
    (a CPU-only torch build, a driver mismatch) falls back to the CPU with a
    warning that says why, instead of silently.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        allocated = gpu_allocated()
        if allocated:
            reason = (
                "this torch build has no CUDA (install a CUDA build of pytorch)"
                if not torch.version.cuda
                else f"torch (CUDA {torch.version.cuda}) finds no usable GPU (driver?)"
            )
            log.warning(
                "GPU ALLOCATED BUT NOT USED: %s, but %s; running on the CPU", allocated, reason
            )
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise SynflairError("--device cuda: no CUDA device is available (use auto or cpu)")
        return torch.device("cuda")
    raise SynflairError(f"device must be 'auto', 'cpu' or 'cuda', not {name!r}")
