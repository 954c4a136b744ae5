"""Training logs rate and ETA every log_every iterations, with no terminal (Snakemake, SLURM)."""

import dataclasses
import logging
import re

from synflair.models.normalization import InputNormalization
from synflair.train.data import load_training_data, read_manifest
from synflair.train.session import train_stage, with_iterations


def test_every_log_every_iterations_a_line_with_rate_eta_and_losses(
    tiny_cohort, tiny_config, tmp_path, caplog
):
    data = load_training_data(read_manifest(tiny_cohort), InputNormalization())
    config = dataclasses.replace(
        with_iterations(tiny_config, 1, 30), log_every=10, checkpoint_every=30
    )
    caplog.set_level(logging.INFO, logger="synflair.train.session")
    train_stage(config, 1, data, out=tmp_path / "m.pt", workdir=tmp_path / "w")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("stage 1: ")]
    assert [line.split(" (")[0] for line in lines] == [
        "stage 1: 10/30",
        "stage 1: 20/30",
        "stage 1: 30/30",
    ]
    pattern = r"stage 1: \d+/30 \(\d+%\), [0-9.e+]+ it/s, ETA \d+:\d\d:\d\d: g_loss [0-9.e+-]+, .*"
    for line in lines:
        assert re.fullmatch(pattern, line), line
    assert lines[-1].split(", ETA ")[1].startswith("0:00:00")
