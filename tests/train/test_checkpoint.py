"""Model files and checkpoints: round trips and clear errors for bad files."""

import pickle

import pytest
import torch

from synflair.errors import SynflairError
from synflair.models import init_parameters
from synflair.train.checkpoint import (
    build_discriminator,
    build_generator,
    load_checkpoint,
    load_model,
    save_archive,
    save_model,
)
from synflair.train.config import config_from_dict
from synflair.train.data import InputNormalization
from synflair.train.session import check_init


def _write_model(path, mapping=None):
    config = config_from_dict(mapping or {"discriminator": {"base_channels": 4, "levels": 2}})
    gen = torch.Generator().manual_seed(0)
    g = init_parameters(build_generator(config), gen)
    d = init_parameters(build_discriminator(config), gen)
    save_model(
        path,
        stage=1,
        iterations=10,
        config=config,
        normalization=InputNormalization.from_config(config.data),
        generator=g,
        discriminator=d,
    )
    return config, g, d


def test_model_round_trip(tmp_path):
    config, g, d = _write_model(tmp_path / "model.pt")
    model = load_model(tmp_path / "model.pt")
    assert (model.stage, model.iterations, model.config) == (1, 10, config)
    assert model.normalization == InputNormalization.from_config(config.data)
    for a, b in zip(model.generator().state_dict().values(), g.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(
        model.discriminator().state_dict().values(), d.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob(".model*"))  # no temporary left behind


@pytest.mark.parametrize("keep", [0, 100, 0.5])
def test_truncated_or_corrupted_files_name_the_file(tmp_path, keep):
    _write_model(tmp_path / "model.pt")
    raw = (tmp_path / "model.pt").read_bytes()
    cut = raw[: int(len(raw) * keep)] if isinstance(keep, float) else raw[:keep]
    (tmp_path / "bad.pt").write_bytes(cut)
    with pytest.raises(SynflairError, match=r"bad\.pt: not a readable .*corrupted or truncated"):
        load_model(tmp_path / "bad.pt")


def test_flipped_bytes_are_detected(tmp_path):
    _write_model(tmp_path / "model.pt")
    raw = bytearray((tmp_path / "model.pt").read_bytes())
    for i in range(200, len(raw), 97):
        raw[i] ^= 0xFF
    (tmp_path / "bad.pt").write_bytes(bytes(raw))
    with pytest.raises(SynflairError, match=r"bad\.pt"):
        load_model(tmp_path / "bad.pt")


def test_pickled_code_is_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this must not run",))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        pickle.dump({"format": "synflair-model", "x": Payload()}, handle, protocol=2)
    with pytest.raises(SynflairError, match=r"evil\.pt: not a readable"):
        load_model(path)


def test_wrong_kind_and_incomplete_files(tmp_path):
    save_archive(tmp_path / "other.pt", {"weights": torch.zeros(3)})
    with pytest.raises(SynflairError, match=r"other\.pt: not a synflair model file"):
        load_model(tmp_path / "other.pt")
    save_archive(tmp_path / "partial.pt", {"format": "synflair-model", "version": 1, "stage": 1})
    with pytest.raises(SynflairError, match=r"partial\.pt: synflair model file lacks"):
        load_model(tmp_path / "partial.pt")
    with pytest.raises(SynflairError, match=r"none\.pt: no such file"):
        load_checkpoint(tmp_path / "none.pt")
    _write_model(tmp_path / "model.pt")
    with pytest.raises(SynflairError, match=r"model\.pt: not a training checkpoint"):
        load_checkpoint(tmp_path / "model.pt")


def test_weights_that_do_not_fit_the_layout(tmp_path):
    _write_model(tmp_path / "model.pt")
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    payload["generator"]["signal_hidden.weight"] = torch.zeros(64, 8, 1, 1)
    save_archive(tmp_path / "bad.pt", payload)
    with pytest.raises(SynflairError, match=r"bad\.pt: generator weights do not fit"):
        load_model(tmp_path / "bad.pt")


def test_a_model_with_other_input_channels_is_refused(tmp_path):
    _write_model(
        tmp_path / "ri.pt",
        {"data": {"inputs": "real_imag"}, "discriminator": {"base_channels": 4, "levels": 2}},
    )
    model = load_model(tmp_path / "ri.pt")
    assert model.in_channels == 16
    config = config_from_dict({"discriminator": {"base_channels": 4, "levels": 2}})
    with pytest.raises(SynflairError, match=r"ri\.pt: trained with 16 input channels"):
        check_init(model, config)
    other = config_from_dict({"discriminator": {"base_channels": 8, "levels": 2}})
    _write_model(tmp_path / "m.pt")
    with pytest.raises(
        SynflairError, match=r"m\.pt: .*base_channels: 4 \(model\) vs 8 \(configuration\)"
    ):
        check_init(load_model(tmp_path / "m.pt"), other)
