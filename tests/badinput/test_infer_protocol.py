"""``synflair infer`` refuses an exam whose MDME protocol is not the one the model was trained on.

A model file records the MDME protocol(s) of its training subjects
(:mod:`synflair.models.record`); the exam's sidecar (``sub-01_mdme.json``
beside the NIfTI) must match one of them within the documented tolerance
(times: 1 % or 0.5 ms, whichever is larger; flip angles: 1 degree; counts and
the image component equal). Each case changes one parameter of the exam and
asserts the bad-input contract: exit 2, one line naming the exam's sidecar,
the parameter, the exam's value and the model's, nothing written.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from badinput_harness import assert_refused, run_cli

from synflair.io.sidecar import MDMESidecar, write_mdme_sidecar
from synflair.models import init_parameters
from synflair.models.modelfile import build_discriminator, build_generator, load_model, save_model
from synflair.models.normalization import InputNormalization
from synflair.models.record import MDMEProtocolRecord, TrainingRecord, training_record
from synflair.nifti import load_data, save
from synflair.train.config import config_from_dict

AFFINE = np.diag([2.0, 2.0, 5.0, 1.0])
SHAPE = (12, 12, 2)
CONFIG = {"generator": {"hidden": 8}, "discriminator": {"base_channels": 4, "levels": 2}}
#: The paper's protocol (ms, degrees), as the converter writes it (delay-major volumes).
PAPER = MDMESidecar(
    echo_time=(16.9, 84.5) * 4,
    saturation_delay=tuple(td for td in (146.0, 546.0, 1879.0, 3879.0) for _ in range(2)),
    repetition_time=4000.0,
    flip_angle=90.0,
    saturation_flip_angle=120.0,
    image_component="magnitude",
)


def _model(path: Path, record: TrainingRecord | None) -> Path:
    config = config_from_dict(CONFIG)
    weights = torch.Generator().manual_seed(0)
    return save_model(
        path,
        stage=2,
        iterations=4,
        config=config,
        normalization=InputNormalization.from_config(config.data),
        generator=init_parameters(build_generator(config), weights),
        discriminator=init_parameters(build_discriminator(config), weights),
        trained_on=record,
    )


def _exam(folder: Path, sidecar: MDMESidecar | None) -> dict[str, Path]:
    rng = np.random.default_rng(2)
    mask = np.zeros(SHAPE, np.uint8)
    mask[2:10, 3:9] = 1
    mdme = save((rng.random((*SHAPE, 8)) * 500).astype(np.float32), AFFINE,
                folder / "sub-01_mdme.nii.gz")  # fmt: skip
    if sidecar is not None:
        write_mdme_sidecar(folder / "sub-01_mdme.json", sidecar)
    return {
        "mdme": mdme,
        "mask": save(mask, AFFINE, folder / "sub-01_mask.nii.gz", dtype=np.uint8),
        "json": folder / "sub-01_mdme.json",
    }


def _argv(model: Path, exam: dict[str, Path], out: Path) -> list:
    return ["infer", "--model", model, "--mdme", exam["mdme"], "--mask", exam["mask"],
            "--out", out]  # fmt: skip


RECORD = TrainingRecord(("ph01", "ph02"), (MDMEProtocolRecord.of(PAPER),))


def _grid(te, td):
    return {"echo_time": tuple(te) * len(td),
            "saturation_delay": tuple(d for d in td for _ in te)}  # fmt: skip


#: The exam's change -> what the error line must name.
CASES = {
    "echo-time": (_grid((16.9, 95.0), (146.0, 546.0, 1879.0, 3879.0)),
                  ["EchoTime 2 of 2", "95 ms in the exam", "84.5 ms"]),
    "delay": (_grid((16.9, 84.5), (146.0, 546.0, 1879.0, 3500.0)),
              ["SaturationDelayTime 4 of 4", "3500 ms in the exam", "3879 ms"]),
    "repetition-time": ({"repetition_time": 4500.0},
                        ["RepetitionTime", "4500 ms in the exam", "4000 ms"]),
    "flip-angle": ({"saturation_flip_angle": 150.0},
                   ["SaturationFlipAngle", "150 degrees in the exam", "120 degrees"]),
    "real-parts": ({"image_component": "real"}, ["ImageComponent", "'real'", "'magnitude'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_infer_refuses_an_exam_of_another_protocol(case, tmp_path, capsys):
    change, names = CASES[case]
    model = _model(tmp_path / "in" / "model.pt", RECORD)
    exam = _exam(tmp_path / "in", dataclasses.replace(PAPER, **change))
    out = tmp_path / "out" / "dl.nii.gz"
    assert_refused(
        _argv(model, exam, out),
        capsys,
        names=[str(exam["json"]), str(model), "MDME protocol differs", *names, "tolerance"],
        outputs=[out],
        inputs=[tmp_path / "in"],
    )


def test_infer_refuses_an_exam_with_other_echo_and_delay_counts(tmp_path, capsys):
    """Four echo times x two delays: 8 volumes too, so only the protocol tells; the count is
    named."""
    model = _model(tmp_path / "in" / "model.pt", RECORD)
    sidecar = dataclasses.replace(PAPER, **_grid((16.9, 50.0, 84.5, 120.0), (146.0, 3879.0)))
    exam = _exam(tmp_path / "in", sidecar)
    out = tmp_path / "out" / "dl.nii.gz"
    assert_refused(
        _argv(model, exam, out),
        capsys,
        names=[str(exam["json"]), "EchoTime: the exam has 4 distinct values", "model's protocol 2"],
        outputs=[out],
        inputs=[tmp_path / "in"],
    )


def test_infer_refuses_an_exam_without_its_sidecar(tmp_path, capsys):
    """A model that records its protocol needs the exam's sidecar to check it."""
    model = _model(tmp_path / "in" / "model.pt", RECORD)
    exam = _exam(tmp_path / "in", None)
    out = tmp_path / "out" / "dl.nii.gz"
    assert_refused(
        _argv(model, exam, out),
        capsys,
        names=[str(exam["json"]), "no such file", "MDME JSON sidecar", str(model)],
        outputs=[out],
        inputs=[tmp_path / "in"],
    )


@pytest.mark.parametrize(
    "change",
    [{}, {"repetition_time": 4030.0}, _grid((17.0, 84.5), (146.0, 546.0, 1879.0, 3879.0)),
     {"flip_angle": 90.9}],
    ids=["same", "tr-within-1%", "te-within-0.5ms", "angle-within-1deg"],
)  # fmt: skip
def test_infer_accepts_an_exam_within_the_tolerance(change, tmp_path, capsys):
    """The controls: the same protocol, and differences inside the tolerance, are applied."""
    model = _model(tmp_path / "in" / "model.pt", RECORD)
    exam = _exam(tmp_path / "in", dataclasses.replace(PAPER, **change))
    out = tmp_path / "out" / "dl.nii.gz"
    assert run_cli(_argv(model, exam, out), capsys).status == 0
    assert np.isfinite(load_data(out, ndim=3)[0]).all()


def test_an_old_model_without_the_record_is_applied_with_a_warning(tmp_path, capsys, caplog):
    """Model files written before the record: applied; the log says the protocol is unchecked."""
    model = _model(tmp_path / "in" / "model.pt", None)
    exam = _exam(tmp_path / "in", dataclasses.replace(PAPER, repetition_time=6000.0))
    out = tmp_path / "out" / "dl.nii.gz"
    with caplog.at_level(logging.WARNING):
        assert run_cli(_argv(model, exam, out), capsys).status == 0
    assert "records no training MDME protocol" in caplog.text and "NOT checked" in caplog.text
    assert load_model(model).trained_on is None


def test_training_record_reads_the_sidecars_beside_the_mdme(tmp_path):
    """Two subjects of one protocol and one without a sidecar: one protocol, all subjects."""
    a = _exam(tmp_path / "a", PAPER)
    b = _exam(tmp_path / "b", PAPER)
    c = _exam(tmp_path / "c", None)
    flair = tmp_path / "a" / "sub-01_FLAIR.json"
    flair.write_text('{"EchoTime": 0.124, "InversionTime": 2.472, "RepetitionTime": 9}')
    record = training_record(["a", "b", "c"], [a["mdme"], b["mdme"], c["mdme"]], [flair])
    assert record.subjects == ("a", "b", "c")
    assert record.protocols == (MDMEProtocolRecord.of(PAPER),)
    assert record.protocols[0].SaturationDelayTime == (146.0, 546.0, 1879.0, 3879.0)
    assert [f.to_dict() for f in record.flair] == [
        {"EchoTime": 124.0, "InversionTime": 2472.0, "RepetitionTime": 9000.0}
    ]
    model = load_model(_model(tmp_path / "model.pt", record))
    assert model.trained_on == record  # the round trip through the model file
