"""Bad model files and checkpoints: one line naming the file, no code run, nothing written.

``synflair infer --model`` reads a model file (or a training checkpoint),
``synflair train --init`` a model file and ``synflair train --resume`` the
checkpoint in ``--workdir``. Each case damages a valid tiny model or
checkpoint and asserts the bad-input contract of :mod:`badinput_harness`: exit
2, one error line naming the file and what is wrong, no traceback, no output
at the final paths (the DL-FLAIR; the trained model and ``losses.tsv``), the
inputs unchanged. A model holding pickled code must also not run it (the code
would create a file).
"""

from __future__ import annotations

import contextlib
import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from badinput_harness import assert_refused, run_cli

from synflair.cli import main
from synflair.models import init_parameters
from synflair.models.modelfile import build_discriminator, build_generator, save_archive, save_model
from synflair.models.normalization import InputNormalization
from synflair.nifti import load_data, save
from synflair.train.config import config_from_dict

AFFINE = np.diag([2.0, 2.0, 5.0, 1.0])
SHAPE = (20, 20, 2)
#: A network small enough for sub-second CPU training (hidden 8, a 2-level D).
CONFIG = {
    "seed": 3,
    "generator": {"hidden": 8},
    "data": {"patch_size": 16, "batch_size": 2},
    "discriminator": {"base_channels": 4, "levels": 2},
    "stage1": {"iterations": 4, "generator": {"lr": 5e-3}, "discriminator": {"lr": 1e-3}},
    "stage2": {"iterations": 4, "generator": {"lr": 1e-3}, "discriminator": {"lr": 1e-3}},
    "checkpoint_every": 2,
    "log_every": 2,
}


class CreatesAFile:
    """Unpickling this creates ``marker``: code that loading a model must never run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _model(path: Path, mapping: dict = CONFIG, stage: int = 1) -> Path:
    config = config_from_dict(mapping)
    weights = torch.Generator().manual_seed(0)
    return save_model(
        path,
        stage=stage,
        iterations=4,
        config=config,
        normalization=InputNormalization.from_config(config.data),
        generator=init_parameters(build_generator(config), weights),
        discriminator=init_parameters(build_discriminator(config), weights),
    )


def _rewrite(path: Path, change) -> None:
    """Load the archive at ``path``, let ``change(payload)`` edit it, save it back."""
    payload = torch.load(path, weights_only=True)
    change(payload)
    save_archive(path, payload)


def _poison(part: str, key: str | None, value: float):
    def change(payload):
        name = key or next(iter(payload[part]))
        payload[part][name] = payload[part][name].clone()
        payload[part][name].view(-1)[-1] = value

    return change


def _set(**fields):
    return lambda payload: payload.update(fields)


def _drop(key: str):
    return lambda payload: payload.pop(key)


def _damage(path: Path, kind: str, marker: Path) -> list[str]:
    """Damage the valid model file at ``path`` as ``kind``; return what the line must say."""
    raw = path.read_bytes()
    if kind == "missing":
        path.unlink()
        return ["no such file"]
    if kind == "folder":
        path.unlink()
        path.mkdir()
        return ["is a folder"]
    if kind == "empty":
        path.write_bytes(b"")
        return ["corrupted, truncated or not a torch archive"]
    if kind == "text":
        path.write_text("weights: see the lab wiki\n")
        return ["not a readable", "corrupted, truncated or not a torch archive"]
    if kind == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
        return ["corrupted, truncated or not a torch archive"]
    if kind == "pickled-code-torch":  # a genuine torch archive around code
        torch.save({"format": "synflair-model", "version": 1, "x": CreatesAFile(marker)}, path)
        return ["could run code", "io.open"]
    if kind.startswith("pickled-code-protocol-"):  # a plain pickle, not a torch archive
        protocol = int(kind.rsplit("-", 1)[1])
        payload = {"format": "synflair-model", "x": CreatesAFile(marker)}
        path.write_bytes(pickle.dumps(payload, protocol=protocol))
        # protocol 2 is read (safely) up to the code; torch's safe reader stops at protocol 4
        return ["could run code"] if protocol == 2 else ["not a readable", "operand"]
    if kind == "plain-state-dict":  # someone else's weights file
        torch.save(build_generator(config_from_dict(CONFIG)).state_dict(), path)
        return ["not a synflair model file", "format"]
    changes = {
        "nan-weights": (_poison("generator", "signal_hidden.weight", float("nan")),
                        ["generator tensor 'signal_hidden.weight'", "1 non-finite"]),
        "inf-weights": (_poison("generator", "suppression_out.bias", float("-inf")),
                        ["generator tensor 'suppression_out.bias'", "non-finite"]),
        "nan-discriminator": (_poison("discriminator", None, float("nan")),
                              ["discriminator tensor", "non-finite"]),
        "shape-mismatch": (
            lambda p: p["generator"].update({"signal_hidden.weight": torch.zeros(8, 16, 1, 1)}),
            ["generator weights do not fit", "signal_hidden.weight"],
        ),
        "missing-tensor": (lambda p: p["discriminator"].popitem(),
                           ["discriminator weights do not fit", "Missing key"]),
        "missing-key": (_drop("normalization"), ["lacks ['normalization']"]),
        "wrong-version": (_set(version=7), ["version 7"]),
        "bad-stage": (_set(stage=3), ["'stage' is 3"]),
        "bad-config": (_set(config={"generator": {"hidden": 0}}), ["stored configuration",
                                                                    "generator.hidden"]),
        "nan-divisor": (lambda p: p["normalization"].update(target_divisor=float("nan")),
                        ["normalization: target_divisor is nan"]),
        "weights-not-tensors": (lambda p: p.update(generator={"signal_hidden.weight": [1.0]}),
                                ["generator entry 'signal_hidden.weight' is a list"]),
        "bad-record": (_set(trained_on={"subjects": ["a"], "protocols": [{"EchoTime": "16.9"}]}),
                       ["field 'trained_on'", "protocols[0]", "EchoTime is '16.9'"]),
    }  # fmt: skip
    change, names = changes[kind]
    _rewrite(path, change)
    return names


INFER_KINDS = [
    "missing",
    "folder",
    "empty",
    "text",
    "truncated",
    "pickled-code-torch",
    "pickled-code-protocol-2",
    "pickled-code-protocol-4",
    "plain-state-dict",
    "nan-weights",
    "inf-weights",
    "nan-discriminator",
    "shape-mismatch",
    "missing-tensor",
    "missing-key",
    "wrong-version",
    "bad-stage",
    "bad-config",
    "nan-divisor",
    "weights-not-tensors",
    "bad-record",
]


@pytest.fixture()
def exam(tmp_path) -> dict[str, Path]:
    """A small MDME NIfTI and its mask."""
    rng = np.random.default_rng(5)
    mask = np.zeros(SHAPE, np.uint8)
    mask[3:17, 4:16] = 1
    folder = tmp_path / "in"
    return {
        "mdme": save((rng.random((*SHAPE, 8)) * 500).astype(np.float32), AFFINE,
                     folder / "sub-01_mdme.nii.gz"),
        "mask": save(mask, AFFINE, folder / "sub-01_mask.nii.gz", dtype=np.uint8),
    }  # fmt: skip


def _infer(model: Path, exam: dict[str, Path], out: Path) -> list[str]:
    return ["infer", "--model", model, "--mdme", exam["mdme"], "--mask", exam["mask"],
            "--out", out]  # fmt: skip


@pytest.mark.parametrize("kind", INFER_KINDS)
def test_infer_refuses_a_bad_model_file(kind, exam, tmp_path, capsys):
    model = _model(tmp_path / "in" / "model.pt")
    marker = tmp_path / "PWNED"
    names = _damage(model, kind, marker)
    out = tmp_path / "out" / "sub-01_desc-dl_FLAIR.nii.gz"
    assert_refused(
        _infer(model, exam, out),
        capsys,
        names=[str(model), *names],
        outputs=[out, marker],
        inputs=[tmp_path / "in"],
    )


def test_infer_control_the_valid_model_works(exam, tmp_path, capsys):
    """The undamaged inputs of the cases above give a finite DL-FLAIR (the cases can fail)."""
    model = _model(tmp_path / "in" / "model.pt")
    out = tmp_path / "out" / "dl.nii.gz"
    assert run_cli(_infer(model, exam, out), capsys).status == 0
    flair, _ = load_data(out, ndim=3)
    assert np.isfinite(flair).all() and flair.max() > 0


def test_infer_refuses_a_prediction_that_overflows(exam, tmp_path, capsys):
    """Finite weights whose output overflows float32: refused naming the model and the count."""
    model = _model(tmp_path / "in" / "model.pt")
    _rewrite(model, lambda p: p["generator"]["signal_out.bias"].fill_(1e30))
    out = tmp_path / "out" / "dl.nii.gz"
    assert_refused(
        _infer(model, exam, out),
        capsys,
        names=[str(model), "holds 336 non-finite voxel(s)", "nothing written"],
        outputs=[out],
        inputs=[tmp_path / "in"],
    )


def test_infer_refuses_a_model_for_other_inputs(exam, tmp_path, capsys):
    """A model trained on real and imaginary parts (16 channels) and an 8-volume MDME."""
    model = _model(tmp_path / "in" / "model.pt", {**CONFIG, "data": {"inputs": "real_imag"}})
    out = tmp_path / "out" / "dl.nii.gz"
    assert_refused(
        _infer(model, exam, out),
        capsys,
        names=[str(exam["mdme"]), "has 8 volume(s)", "16 volumes", "real_imag"],
        outputs=[out],
        inputs=[tmp_path / "in"],
    )


# --- training: --init (a model file) and --resume (the checkpoint in --workdir) ---


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> dict[str, Path]:
    """A 2-subject manifest, a preset and a genuine stage-1 checkpoint of it."""
    root = tmp_path_factory.mktemp("cohort")
    rng = np.random.default_rng(1)
    rows = []
    for subject in ("a", "b"):
        mask = np.zeros(SHAPE, np.uint8)
        mask[2:18, 2:18] = 1
        images = {
            "mdme": (rng.random((*SHAPE, 8)) * 500).astype(np.float32),
            "mask": mask,
            "target": (rng.random(SHAPE) * 100).astype(np.float32),
            "conventional": (rng.random(SHAPE) * 100).astype(np.float32),
        }
        row = {"subject": subject}
        for key, array in images.items():
            dtype = np.uint8 if key == "mask" else np.float32
            row[key] = str(save(array, AFFINE, root / f"sub-{subject}_{key}.nii.gz", dtype=dtype))
        rows.append(row)
    manifest = root / "manifest.tsv"
    pd.DataFrame(rows).to_csv(manifest, sep="\t", index=False)
    preset = root / "tiny.yaml"
    preset.write_text(yaml.safe_dump(CONFIG))
    argv = ["train", "--stage", "1", "--manifest", manifest, "--config", preset,
            "--out", root / "stage1.pt", "--workdir", root / "run", "--device", "cpu"]  # fmt: skip
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            assert main([str(a) for a in argv]) == 0
    finally:
        torch.set_num_threads(previous)
    return {"manifest": manifest, "preset": preset, "checkpoint": root / "run" / "checkpoint.pt"}


def _train(cohort, tmp_path, *extra) -> tuple[list, Path]:
    out = tmp_path / "out" / "model.pt"
    argv = ["train", "--manifest", cohort["manifest"], "--config", cohort["preset"],
            "--out", out, "--workdir", tmp_path / "work", "--device", "cpu", *extra]  # fmt: skip
    return argv, out


INIT_KINDS = ["truncated", "pickled-code-torch", "nan-weights", "shape-mismatch", "missing-key"]


@pytest.mark.parametrize("kind", INIT_KINDS)
def test_train_refuses_a_bad_init_model(kind, cohort, tmp_path, capsys):
    init = _model(tmp_path / "in" / "stage1.pt")
    marker = tmp_path / "PWNED"
    names = _damage(init, kind, marker)
    argv, out = _train(cohort, tmp_path, "--stage", "2", "--init", init)
    assert_refused(
        argv,
        capsys,
        names=[str(init), *names],
        outputs=[out, tmp_path / "work" / "losses.tsv", marker],
        inputs=[tmp_path / "in"],
    )


def test_train_refuses_a_checkpoint_as_init(cohort, tmp_path, capsys):
    init = tmp_path / "in" / "checkpoint.pt"
    init.parent.mkdir()
    shutil.copy(cohort["checkpoint"], init)
    argv, out = _train(cohort, tmp_path, "--stage", "2", "--init", init)
    assert_refused(
        argv,
        capsys,
        names=[str(init), "not a synflair model file", "synflair-checkpoint"],
        outputs=[out],
        inputs=[tmp_path / "in"],
    )


def _nan_adam(payload):
    state = payload["opt_generator"]["state"]
    moments = state[next(iter(state))]["exp_avg_sq"]
    moments.view(-1)[0] = float("nan")


RESUME_CASES = {
    "truncated": (None, ["corrupted, truncated or not a torch archive"]),
    "nan-weights": (_poison("generator", "signal_out.weight", float("nan")),
                    ["generator tensor 'signal_out.weight'", "non-finite"]),
    "nan-optimizer": (_nan_adam, ["opt_generator tensor", "exp_avg_sq", "non-finite"]),
    "optimizer-mismatch": (
        lambda p: p["opt_generator"]["param_groups"][0]["params"].pop(),
        ["unusable optimizer, sampler or loss-log state"],
    ),
    "bad-rng": (lambda p: p["rng"].update(sampler=torch.zeros(3)),
                ["unusable optimizer, sampler or loss-log state"]),
    "missing-key": (_drop("log"), ["training checkpoint lacks ['log']"]),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(RESUME_CASES))
def test_train_resume_refuses_a_bad_checkpoint(kind, cohort, tmp_path, capsys):
    checkpoint = tmp_path / "work" / "checkpoint.pt"
    checkpoint.parent.mkdir()
    shutil.copy(cohort["checkpoint"], checkpoint)
    change, names = RESUME_CASES[kind]
    if change is None:
        checkpoint.write_bytes(checkpoint.read_bytes()[:-300])
    else:
        _rewrite(checkpoint, change)
    argv, out = _train(cohort, tmp_path, "--stage", "1", "--resume")
    assert_refused(
        argv,
        capsys,
        names=[str(checkpoint), *names],
        outputs=[out, tmp_path / "work" / "losses.tsv", tmp_path / "work" / "losses.png"],
        inputs=[checkpoint],
    )
