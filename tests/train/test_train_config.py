"""Training configuration: presets load, the paper's values, validation naming the key."""

from pathlib import Path

import pytest
import yaml

from synflair.errors import SynflairError
from synflair.train.config import TrainConfig, config_from_dict, load_config

PRESETS = Path(__file__).resolve().parents[2] / "config" / "train"


@pytest.mark.parametrize("name", ["paper", "demo", "ci"])
def test_presets_load_and_round_trip(name):
    config = load_config(PRESETS / f"{name}.yaml")
    assert config_from_dict(config.to_dict()) == config
    # 8 MDME magnitudes, plus the synthetic FLAIR for the relative presets (demo, ci)
    assert config.data.relative == (name != "paper")
    assert config.data.in_channels == 8 + int(config.data.relative)


def test_paper_preset_has_the_papers_values():
    c = load_config(PRESETS / "paper.yaml")
    assert (c.data.patch_size, c.data.batch_size) == (128, 15)
    assert c.stage1.iterations == c.stage2.iterations == 100_000
    assert (c.stage1.generator.lr, c.stage1.generator.beta1, c.stage1.generator.beta2) == (
        5e-4, 0.9, 0.999,
    )  # fmt: skip
    assert (c.stage1.discriminator.lr, c.stage1.discriminator.beta1) == (1e-6, 0.9)
    assert (c.stage2.generator.lr, c.stage2.generator.beta1, c.stage2.generator.beta2) == (
        1e-5, 0.5, 0.999,
    )  # fmt: skip
    assert (c.stage2.discriminator.lr, c.stage2.discriminator.beta1) == (1e-6, 0.9)
    assert c.generator.hidden == 128
    assert c.gan_loss == "minimax"
    assert c == TrainConfig()  # the dataclass defaults are the paper's values


def test_missing_keys_take_defaults():
    c = config_from_dict({"data": {"patch_size": 64}})
    assert c.data.patch_size == 64 and c.data.batch_size == 15


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"data": {"patchsize": 64}}, r"unknown key\(s\) data\.patchsize"),
        ({"learning_rate": 1}, r"unknown key\(s\) learning_rate"),
        ({"stage2": {"iterations": 5, "generator": {"lr": -1}, "discriminator": {"lr": 1e-6}}},
         r"stage2\.generator\.lr must be > 0"),
        ({"stage1": {"iterations": 5, "generator": {"lr": 1e-3}}},
         r"stage1\.discriminator is required"),
        ({"stage1": {"iterations": 5.5, "generator": {"lr": 1e-3}, "discriminator": {"lr": 1}}},
         r"stage1\.iterations must be an integer"),
        ({"data": {"inputs": "phase"}}, r"data\.inputs must be one of"),
        ({"data": {"input_region": "brain"}}, r"data\.input_region must be one of"),
        ({"data": {"patch_size": 100}}, r"data\.patch_size must be divisible by .* = 8"),
        ({"data": {"batch_size": 1}}, r"data\.batch_size must be an integer >= 2"),
        ({"gan_loss": "wasserstein"}, r"gan_loss must be one of"),
        ({"checkpoint_every": 150, "log_every": 100}, r"checkpoint_every must be a positive mult"),
        ({"discriminator": {"conditional": "yes"}}, r"discriminator\.conditional must be true"),
        ({"seed": True}, r"seed must be an integer"),
        ({"data": 3}, r"data must be a mapping"),
    ],
)  # fmt: skip
def test_invalid_values_name_the_key(mapping, message):
    with pytest.raises(ValueError, match=message):
        config_from_dict(mapping)


def test_load_config_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"data": {"patch_size": 64, "colour": "red"}}))
    with pytest.raises(SynflairError, match=r"bad\.yaml: unknown key\(s\) data\.colour"):
        load_config(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("data: [unclosed")
    with pytest.raises(SynflairError, match=r"broken\.yaml: not valid YAML"):
        load_config(broken)
    with pytest.raises(SynflairError, match=r"missing\.yaml: no such file"):
        load_config(tmp_path / "missing.yaml")


def test_real_imag_doubles_the_channels():
    assert config_from_dict({"data": {"inputs": "real_imag"}}).data.in_channels == 16
    assert config_from_dict({"data": {"inputs": "real"}}).data.in_channels == 8
