"""Model files and checkpoints: round trips and clear errors for bad files."""

import pickle
import zipfile

import pytest
import torch

from synflair.errors import SynflairError
from synflair.models import init_parameters
from synflair.models.modelfile import (
    build_discriminator,
    build_generator,
    load_model,
    save_archive,
    save_model,
)
from synflair.models.normalization import InputNormalization
from synflair.train.checkpoint import load_checkpoint
from synflair.train.config import config_from_dict
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
    assert (model.stage, model.iterations, model.config) == (1, 10, config.to_dict())
    assert model.normalization == InputNormalization.from_config(config.data)
    for a, b in zip(model.generator().state_dict().values(), g.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(
        model.discriminator().state_dict().values(), d.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob(".model*"))  # no temporary left behind


def test_the_same_model_gives_the_same_bytes(tmp_path):
    # the archive's folder is torch's fixed name, not the temporary file's (host, pid, letters)
    _write_model(tmp_path / "a.pt")
    _write_model(tmp_path / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.pt") as archive:
        assert {name.split("/")[0] for name in archive.namelist()} == {"archive"}


@pytest.mark.parametrize("keep", [0, 100, 0.5])
def test_truncated_or_corrupted_files_name_the_file(tmp_path, keep):
    _write_model(tmp_path / "model.pt")
    raw = (tmp_path / "model.pt").read_bytes()
    cut = raw[: int(len(raw) * keep)] if isinstance(keep, float) else raw[:keep]
    (tmp_path / "bad.pt").write_bytes(cut)
    with pytest.raises(
        SynflairError,
        match=r"bad\.pt: not a readable .*corrupted, truncated or not a torch archive",
    ):
        load_model(tmp_path / "bad.pt")


def test_flipped_bytes_are_detected(tmp_path):
    _write_model(tmp_path / "model.pt")
    raw = bytearray((tmp_path / "model.pt").read_bytes())
    for i in range(200, len(raw), 97):
        raw[i] ^= 0xFF
    (tmp_path / "bad.pt").write_bytes(bytes(raw))
    with pytest.raises(SynflairError, match=r"bad\.pt"):
        load_model(tmp_path / "bad.pt")


class _CreatesAFile:
    """Unpickling this opens (creates) ``marker``: code that a model file must never run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("container", ["torch", "pickle"])
def test_pickled_code_is_refused_unrun(tmp_path, container):
    marker = tmp_path / "PWNED"
    payload = {"format": "synflair-model", "version": 1, "x": _CreatesAFile(marker)}
    path = tmp_path / "evil.pt"
    if container == "torch":
        torch.save(payload, path)  # a genuine torch zip archive around the payload
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(SynflairError) as refused:
        load_model(path, allow_checkpoint=True)
    message = str(refused.value)
    assert message.startswith(f"{path}: not a synflair model file")
    assert "could run code" in message and "\n" not in message
    if container == "torch":
        assert "io.open" in message  # the refused global is named
    assert not marker.exists()
    # the payload does run when unpickled without the safeguard: the test can fail
    pickle.loads(pickle.dumps(_CreatesAFile(marker))).close()
    assert marker.exists()


def _payload(path):
    return torch.load(path, weights_only=True)


@pytest.mark.parametrize(
    ("part", "key", "value"),
    [
        ("generator", "signal_hidden.weight", float("nan")),
        ("generator", "suppression_out.bias", float("inf")),
        ("discriminator", None, float("nan")),
    ],
)
def test_non_finite_weights_are_refused_naming_the_tensor(tmp_path, part, key, value):
    _write_model(tmp_path / "model.pt")
    payload = _payload(tmp_path / "model.pt")
    key = key or next(iter(payload[part]))
    payload[part][key] = payload[part][key].clone()
    payload[part][key].view(-1)[-1] = value
    save_archive(tmp_path / "nan.pt", payload)
    with pytest.raises(SynflairError) as refused:
        load_model(tmp_path / "nan.pt")
    assert str(refused.value).startswith(f"{tmp_path / 'nan.pt'}: {part} tensor '{key}' holds 1 ")


def test_a_diverged_checkpoint_is_refused(tmp_path):
    _write_model(tmp_path / "model.pt")
    payload = _payload(tmp_path / "model.pt")
    state = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.full((2,), float("nan"))}}}
    payload.update(
        format="synflair-checkpoint",
        iteration=3,
        opt_generator=state,
        opt_discriminator={"state": {}},
        rng={"sampler": torch.Generator().get_state()},
        log={},
    )
    del payload["iterations"]
    save_archive(tmp_path / "checkpoint.pt", payload)
    with pytest.raises(
        SynflairError, match=r"checkpoint\.pt: opt_generator tensor 'state\.0\.exp_avg'"
    ):
        load_checkpoint(tmp_path / "checkpoint.pt")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stage", 3, r"field 'stage' is 3, expected one of \(1, 2\)"),
        ("iterations", -1, r"field 'iterations' is -1, expected a count"),
        ("config", "tiny", r"field 'config' is a str, expected a mapping"),
        ("config", {"generator": {"hidden": -4}}, r"invalid stored configuration"),
        ("normalization", {"target_divisor": float("nan")}, r"target_divisor is nan"),
        ("normalization", {"input_percentile": 0.0}, r"input_percentile is 0.0"),
        ("generator", [1, 2], r"generator is a list, expected a state dict"),
        ("generator", {"signal_hidden.weight": 1.0}, r"entry 'signal_hidden.weight' is a float"),
    ],
)
def test_invalid_fields_name_the_file_and_field(tmp_path, field, value, message):
    _write_model(tmp_path / "model.pt")
    payload = _payload(tmp_path / "model.pt")
    if field == "normalization":
        value = {**payload["normalization"], **value}
    payload[field] = value
    save_archive(tmp_path / "bad.pt", payload)
    with pytest.raises(SynflairError, match=message) as refused:
        load_model(tmp_path / "bad.pt")
    assert str(refused.value).startswith(str(tmp_path / "bad.pt"))
    assert "\n" not in str(refused.value)


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
    with pytest.raises(SynflairError, match=r"bad\.pt: generator weights do not fit") as refused:
        load_model(tmp_path / "bad.pt")
    assert "size mismatch for signal_hidden.weight" in str(refused.value)
    assert "\n" not in str(refused.value)
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    del payload["discriminator"][next(iter(payload["discriminator"]))]
    save_archive(tmp_path / "bad.pt", payload)
    with pytest.raises(SynflairError, match=r"bad\.pt: discriminator weights do not fit"):
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
