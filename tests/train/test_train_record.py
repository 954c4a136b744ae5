"""Training records what it was trained on; inference then refuses another protocol.

Train, then reuse: ``synflair train`` on a tiny cohort whose MDME NIfTIs have
their sidecars (and whose manifest names the conventional FLAIR's sidecar)
writes the subjects and the protocol into ``model.pt`` and ``model.json``;
``synflair infer`` applies the model to an exam of that protocol and refuses
one whose TR differs.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pandas as pd
from train_cohort import write_cohort

from synflair.cli import main
from synflair.io.sidecar import MDMESidecar, sidecar_path, write_mdme_sidecar
from synflair.models.modelfile import load_model

PROTOCOL = MDMESidecar(
    echo_time=(16.9, 84.5) * 4,
    saturation_delay=tuple(td for td in (146.0, 546.0, 1879.0, 3879.0) for _ in range(2)),
    repetition_time=4000.0,
    flip_angle=90.0,
    saturation_flip_angle=120.0,
    image_component="magnitude",
)


def test_the_model_records_its_training_and_infer_checks_it(tiny_preset, tmp_path, capsys):
    manifest = write_cohort(tmp_path / "cohort", 2, seed=3, shape=(32, 32, 2))
    frame = pd.read_csv(manifest, sep="\t")
    flair_json = tmp_path / "cohort" / "FLAIR.json"
    flair_json.write_text('{"EchoTime": 0.124, "InversionTime": 2.472, "RepetitionTime": 9.0}')
    for mdme in frame["mdme"]:
        write_mdme_sidecar(sidecar_path(mdme), PROTOCOL)
    frame["conventional_sidecar"] = str(flair_json)
    frame.to_csv(manifest, sep="\t", index=False)
    out = tmp_path / "stage-1" / "model.pt"
    argv = ["train", "--stage", "1", "--manifest", str(manifest), "--config", str(tiny_preset),
            "--device", "cpu", "--iterations", "2", "--out", str(out), "--workdir",
            str(tmp_path / "work")]  # fmt: skip
    assert main(argv) == 0

    record = load_model(out).trained_on
    assert record.subjects == ("t00", "t01")
    assert [p.to_dict() for p in record.protocols] == [
        {"EchoTime": [16.9, 84.5], "SaturationDelayTime": [146.0, 546.0, 1879.0, 3879.0],
         "RepetitionTime": 4000.0, "FlipAngle": 90.0, "SaturationFlipAngle": 120.0,
         "ImageComponent": "magnitude"}
    ]  # fmt: skip
    assert [f.to_dict() for f in record.flair] == [
        {"EchoTime": 124.0, "InversionTime": 2472.0, "RepetitionTime": 9000.0}
    ]
    run = json.loads(out.with_suffix(".json").read_text())  # the report reads it without torch
    assert run["trained_on"] == record.to_dict() and run["stage"] == 1

    # reuse: an exam of the same protocol is applied; one with TR 5000 ms is refused
    exam, mask = frame.loc[0, "mdme"], frame.loc[0, "mask"]
    infer = ["infer", "--model", str(out), "--mdme", exam, "--mask", mask]
    assert main([*infer, "--out", str(tmp_path / "same.nii.gz")]) == 0
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(exam, other / "sub-x_mdme.nii.gz")
    write_mdme_sidecar(other / "sub-x_mdme.json", replace(PROTOCOL, repetition_time=5000.0))
    capsys.readouterr()
    argv = ["infer", "--model", str(out), "--mdme", str(other / "sub-x_mdme.nii.gz"),
            "--mask", mask, "--out", str(tmp_path / "other.nii.gz")]  # fmt: skip
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "RepetitionTime is 5000 ms in the exam, 4000 ms in the model's protocol" in error
    assert not (tmp_path / "other.nii.gz").exists()
