"""``synflair train`` and ``synflair infer`` round trip on tiny NIfTIs."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from synflair.cli import main
from synflair.models.modelfile import load_model
from synflair.nifti import load_data


@pytest.fixture()
def preset(tiny_preset):
    return tiny_preset


def test_train_both_stages_then_infer(tiny_cohort, preset, tmp_path, capsys):
    base = ["train", "--manifest", str(tiny_cohort), "--config", str(preset), "--device", "cpu"]
    s1, s2 = tmp_path / "stage-1" / "model.pt", tmp_path / "stage-2" / "model.pt"
    assert main([*base, "--stage", "1", "--out", str(s1), "--workdir", str(tmp_path / "w1")]) == 0
    for name in ("checkpoint.pt", "losses.tsv", "losses.png"):
        assert (tmp_path / "w1" / name).is_file()
    status = main(
        [*base, "--stage", "2", "--out", str(s2), "--workdir", str(tmp_path / "w2"),
         "--init", str(s1), "--resume", "--iterations", "6"]
    )  # fmt: skip
    assert status == 0
    losses = pd.read_csv(tmp_path / "w2" / "losses.tsv", sep="\t")
    assert list(losses["iteration"]) == [2, 4, 6] and (losses["stage"] == 2).all()
    run = json.loads(s2.with_suffix(".json").read_text())  # what ran, readable without torch
    assert run["stage"] == 2 and run["iterations"] == 6
    assert run["device"].startswith("cpu (torch ") and run["torch"] == torch.__version__
    assert load_model(s2).device == run["device"]

    manifest = pd.read_csv(tiny_cohort, sep="\t")
    mdme, mask = manifest.loc[0, "mdme"], manifest.loc[0, "mask"]
    out = tmp_path / "dl.nii.gz"
    assert (
        main(["infer", "--model", str(s2), "--mdme", mdme, "--mask", mask, "--out", str(out)]) == 0
    )
    flair, image = load_data(out, ndim=3)
    mask_data = load_data(mask)[0] > 0.5
    assert flair.shape == mask_data.shape
    assert bool((flair[~mask_data] == 0).all()) and bool((flair[mask_data] > 0).all())
    np.testing.assert_allclose(image.affine, load_data(mdme)[1].affine)
    # deterministic: a second run gives the same bytes of data
    out2 = tmp_path / "dl2.nii.gz"
    main(["infer", "--model", str(s2), "--mdme", mdme, "--mask", mask, "--out", str(out2)])
    assert np.array_equal(load_data(out2)[0], flair)


def test_two_trainings_give_the_same_model_file(tiny_cohort, preset, tmp_path):
    # same data, configuration and seed: the same bytes, so a rerun of the workflow
    # reproduces its models (the workdirs' names differ, as the workflow's run ids do)
    base = ["train", "--manifest", str(tiny_cohort), "--config", str(preset), "--device", "cpu"]
    for name in ("a", "b"):
        out = ["--out", str(tmp_path / name / "model.pt"), "--workdir", str(tmp_path / f"w{name}")]
        assert main([*base, "--stage", "1", *out, "--iterations", "4"]) == 0
    assert (tmp_path / "a" / "model.pt").read_bytes() == (tmp_path / "b" / "model.pt").read_bytes()


def test_cli_errors_are_one_line(tiny_cohort, preset, tmp_path, capsys):
    base = ["train", "--manifest", str(tiny_cohort), "--config", str(preset)]
    assert main([*base, "--stage", "2", "--out", "m.pt", "--workdir", str(tmp_path)]) == 2
    assert "pass --init" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage3: {}\n")
    args = ["--stage", "1", "--out", str(tmp_path / "m.pt"), "--workdir", str(tmp_path)]
    assert main(["train", "--manifest", str(tiny_cohort), "--config", str(bad), *args]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml: unknown key(s) stage3" in err and len(err.strip().splitlines()) == 1
    big = tmp_path / "big.yaml"
    mapping = yaml.safe_load(preset.read_text())
    big.write_text(yaml.safe_dump({**mapping, "data": {"patch_size": 64, "batch_size": 4}}))
    assert main(["train", "--manifest", str(tiny_cohort), "--config", str(big), *args]) == 2
    assert "data.patch_size = 64 does not fit subject 't00'" in capsys.readouterr().err
    assert main([*base, *args, "--iterations", "0"]) == 2
    assert "--iterations must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "m.pt").exists()
