"""Training: stage 1 learns, stage 2 runs from stage 1, exact resume, SIGTERM, errors."""

import dataclasses
import os
import signal

import numpy as np
import pandas as pd
import pytest
import torch

from synflair.errors import SynflairError
from synflair.models.modelfile import load_model
from synflair.models.normalization import InputNormalization
from synflair.train.checkpoint import load_checkpoint
from synflair.train.config import config_from_dict
from synflair.train.data import load_training_data, read_manifest
from synflair.train.session import (
    TrainingInterrupted,
    stop_on_sigterm,
    train_stage,
    with_iterations,
)


class StopAfter:
    """A stop flag that turns on after ``n`` polls (one poll per iteration)."""

    def __init__(self, n):
        self.n = n

    @property
    def requested(self):
        self.n -= 1
        return self.n < 0


@pytest.fixture(scope="module")
def tiny_data(tiny_cohort):
    return load_training_data(read_manifest(tiny_cohort), InputNormalization())


def _states_equal(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.values(), b.values(), strict=True))


def test_stage1_reduces_the_mae_clearly(tiny_data, tiny_config, tmp_path):
    config = dataclasses.replace(
        with_iterations(tiny_config, 1, 160), log_every=20, checkpoint_every=80
    )
    out = train_stage(config, 1, tiny_data, out=tmp_path / "m.pt", workdir=tmp_path / "w")
    losses = pd.read_csv(tmp_path / "w" / "losses.tsv", sep="\t")
    assert list(losses["iteration"]) == list(range(20, 161, 20))
    assert (losses["stage"] == 1).all()
    assert losses["mae_target"].iloc[-1] < 0.4 * losses["mae_target"].iloc[0]
    np.testing.assert_allclose(losses["g_loss"], losses["mae_target"], rtol=1e-6)
    # on whole slices, the model beats the best constant predictor by far
    generator = load_model(out).generator()
    slices = tiny_data.slices
    with torch.no_grad():
        prediction = generator(slices[:, :8])[:, 0]
    target = slices[:, 8]
    mae_model = float((prediction - target).abs().mean())
    mae_constant = float((target - target.median()).abs().mean())
    assert mae_model < 0.5 * mae_constant
    assert (tmp_path / "w" / "losses.png").stat().st_size > 1000
    assert load_checkpoint(tmp_path / "w" / "checkpoint.pt")["iteration"] == 160


def _run(config, stage, data, root, name, init=None, stop=None, resume=False):
    return train_stage(
        config,
        stage,
        data,
        out=root / f"{name}.pt",
        workdir=root / name,
        init=init,
        resume=resume,
        stop=stop,
    )


@pytest.mark.parametrize("gan_loss", ["minimax", "non_saturating"])
def test_resume_gives_the_weights_of_an_uninterrupted_run(
    tiny_data, tiny_config, tmp_path, gan_loss
):
    config = dataclasses.replace(tiny_config, gan_loss=gan_loss)
    stage1 = load_model(_run(config, 1, tiny_data, tmp_path, "s1"))
    for stage, init in ((1, None), (2, stage1)):
        full = load_model(_run(config, stage, tiny_data, tmp_path, f"full{stage}", init))
        # interrupted after 5 iterations (between two checkpoints), then resumed
        with pytest.raises(TrainingInterrupted) as stopped:
            _run(config, stage, tiny_data, tmp_path, f"part{stage}", init, stop=StopAfter(5))
        assert stopped.value.iteration == 6
        assert load_checkpoint(stopped.value.checkpoint)["iteration"] == 6
        assert not (tmp_path / f"part{stage}.pt").exists()
        resumed = load_model(
            _run(config, stage, tiny_data, tmp_path, f"part{stage}", init, resume=True)
        )
        assert _states_equal(resumed.generator_state, full.generator_state)
        assert _states_equal(resumed.discriminator_state, full.discriminator_state)
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / f"part{stage}" / "losses.tsv", sep="\t"),
            pd.read_csv(tmp_path / f"full{stage}" / "losses.tsv", sep="\t"),
        )
    # stage 2 moved the generator away from stage 1
    assert not _states_equal(full.generator_state, stage1.generator_state)


def test_same_seed_same_weights_other_seed_other_weights(tiny_data, tiny_config, tmp_path):
    a = load_model(_run(tiny_config, 1, tiny_data, tmp_path, "a"))
    b = load_model(_run(tiny_config, 1, tiny_data, tmp_path, "b"))
    c = load_model(_run(dataclasses.replace(tiny_config, seed=8), 1, tiny_data, tmp_path, "c"))
    assert _states_equal(a.generator_state, b.generator_state)
    assert not _states_equal(a.generator_state, c.generator_state)


def test_resume_without_checkpoint_starts_fresh_and_at_the_end_just_finishes(
    tiny_data, tiny_config, tmp_path
):
    fresh = load_model(_run(tiny_config, 1, tiny_data, tmp_path, "x", resume=True))
    again = load_model(_run(tiny_config, 1, tiny_data, tmp_path, "x", resume=True))
    assert _states_equal(fresh.generator_state, again.generator_state)
    longer = with_iterations(tiny_config, 1, 16)
    extended = load_model(_run(longer, 1, tiny_data, tmp_path, "x", resume=True))
    assert extended.iterations == 16
    assert not _states_equal(extended.generator_state, fresh.generator_state)
    with pytest.raises(SynflairError, match="beyond the 8 iterations"):
        _run(with_iterations(tiny_config, 1, 8), 1, tiny_data, tmp_path, "x", resume=True)


def test_resume_refuses_another_stage_or_configuration(tiny_data, tiny_config, tmp_path):
    stage1 = load_model(_run(tiny_config, 1, tiny_data, tmp_path, "w"))
    with pytest.raises(SynflairError, match=r"checkpoint\.pt: a stage-1 checkpoint; cannot resume"):
        _run(tiny_config, 2, tiny_data, tmp_path, "w", init=stage1, resume=True)
    mapping = tiny_config.to_dict()
    mapping["stage1"]["generator"]["lr"] = 1e-2
    other = config_from_dict(mapping)
    with pytest.raises(
        SynflairError, match=r"different configuration \(stage1\.generator\.lr: 0\.005 \(check"
    ):
        _run(other, 1, tiny_data, tmp_path, "w", resume=True)


def test_stage2_needs_init_and_the_same_channels(tiny_data, tiny_config, tmp_path):
    with pytest.raises(SynflairError, match="--init"):
        _run(tiny_config, 2, tiny_data, tmp_path, "s2")
    mapping = tiny_config.to_dict()
    mapping["data"]["inputs"] = "real_imag"
    with pytest.raises(SynflairError, match=r"8 input channels; data\.inputs 'real_imag' needs 16"):
        _run(config_from_dict(mapping), 1, tiny_data, tmp_path, "s1")


def test_sigterm_sets_the_stop_flag_and_the_handler_is_restored():
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_sigterm() as flag:
        assert not flag.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert flag.requested
    assert signal.getsignal(signal.SIGTERM) is before
