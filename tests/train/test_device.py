"""Which device trains, said aloud: a GPU the scheduler gave but torch cannot use is a warning."""

from __future__ import annotations

import logging

import torch

from synflair.models.device import describe_device, gpu_allocated, resolve_device


def test_auto_on_a_node_without_an_allocated_gpu_is_quietly_the_cpu(monkeypatch, caplog):
    for variable in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with caplog.at_level(logging.WARNING):
        assert resolve_device("auto").type == "cpu"
    assert gpu_allocated() is None
    assert "GPU ALLOCATED" not in caplog.text


def test_auto_with_an_allocated_gpu_torch_cannot_use_warns_why(monkeypatch, caplog):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    with caplog.at_level(logging.WARNING):
        assert resolve_device("auto").type == "cpu"
    assert "GPU ALLOCATED BUT NOT USED: CUDA_VISIBLE_DEVICES=0" in caplog.text
    assert "no CUDA" in caplog.text
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        resolve_device("auto")
    assert "finds no usable GPU" in caplog.text


def test_an_empty_or_disabled_allocation_is_none(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_GPUS", raising=False)
    monkeypatch.delenv("SLURM_STEP_GPUS", raising=False)
    for value in ("", "-1", "NoDevFiles"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", value)
        assert gpu_allocated() is None


def test_the_cpu_is_described_with_the_build():
    text = describe_device(torch.device("cpu"))
    assert text.startswith("cpu (torch ") and "threads" in text
    assert ("CUDA" in text) if torch.version.cuda else ("no CUDA build" in text)
