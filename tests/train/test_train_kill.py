"""A training process killed with SIGKILL (no chance to save) resumes from its last checkpoint.

The preemption path that SIGTERM takes (checkpoint on the signal) is tested on a
real SLURM in tests/workflow/test_slurm.py; here the process gets no warning,
so at most ``checkpoint_every`` iterations are lost, and on the CPU the resumed
run still ends with the weights of an uninterrupted one.
"""

from __future__ import annotations

import copy
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml
from tiny_config import TINY_CONFIG

from synflair.models.modelfile import load_model
from synflair.train.checkpoint import load_checkpoint

pytestmark = pytest.mark.slow

ITERATIONS = 400
CHECKPOINT_EVERY = 40


def _train(preset, manifest, workdir, out, **kwargs):
    command = [sys.executable, "-m", "synflair", "train", "--stage", "1"]
    command += ["--manifest", str(manifest), "--config", str(preset), "--device", "cpu"]
    command += ["--out", str(out), "--workdir", str(workdir), "--resume"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs
    )


def test_sigkill_then_resume_loses_at_most_one_checkpoint_interval(tiny_cohort, tmp_path):
    config = copy.deepcopy(TINY_CONFIG)
    config["stage1"]["iterations"] = ITERATIONS
    config["checkpoint_every"] = CHECKPOINT_EVERY
    config["log_every"] = 10
    preset = tmp_path / "long.yaml"
    preset.write_text(yaml.safe_dump(config))

    # the reference: one uninterrupted run
    reference = _train(preset, tiny_cohort, tmp_path / "ref", tmp_path / "ref.pt")
    assert reference.wait(timeout=600) == 0, reference.stdout.read()

    workdir = tmp_path / "killed"
    checkpoint = workdir / "checkpoint.pt"
    process = _train(preset, tiny_cohort, workdir, tmp_path / "model.pt")
    deadline = time.monotonic() + 600
    saved = 0
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoint.is_file():
            try:
                saved = load_checkpoint(checkpoint)["iteration"]
            except Exception:  # replaced while being read: try again
                saved = 0
            if saved >= 2 * CHECKPOINT_EVERY:
                break
        time.sleep(0.05)
    assert process.poll() is None, "training finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    at_kill = load_checkpoint(checkpoint)["iteration"]
    assert CHECKPOINT_EVERY <= at_kill < ITERATIONS
    assert not (tmp_path / "model.pt").exists()  # no half-written model

    resumed = _train(preset, tiny_cohort, workdir, tmp_path / "model.pt")
    log = resumed.communicate(timeout=600)[0]
    assert resumed.returncode == 0, log
    match = re.search(r"resuming stage 1 from \S+ at iteration (\d+)", log)
    assert match, log
    assert int(match.group(1)) == at_kill
    assert at_kill % CHECKPOINT_EVERY == 0  # the periodic checkpoint: < 40 iterations lost

    model, expected = load_model(tmp_path / "model.pt"), load_model(tmp_path / "ref.pt")
    assert model.iterations == ITERATIONS
    for name, value in expected.generator_state.items():
        assert torch.equal(model.generator_state[name], value), name
