"""Bad validation manifests and recipe keys of ``synflair train`` (issue 12).

Each case asserts the bad-input contract of :mod:`badinput_harness`: exit 2, one error line
naming the file, column or dotted key and what was expected, no traceback, no model written,
the inputs unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from badinput_harness import assert_refused

from synflair.nifti import save

AFFINE = np.diag([2.0, 2.0, 5.0, 1.0])
PRESET = {
    "data": {"patch_size": 8, "batch_size": 2},
    "discriminator": {"base_channels": 4, "levels": 2},
    "stage1": {"iterations": 2, "generator": {"lr": 1e-3}, "discriminator": {"lr": 1e-3}},
    "stage2": {"iterations": 2, "generator": {"lr": 1e-3}, "discriminator": {"lr": 1e-3}},
    "checkpoint_every": 2,
    "log_every": 1,
    "objective": {"voxels": 64, "adversarial": 0.0, "paired": 1.0},
    "selection": {"every": 1},
}


def subject(root: Path, name: str, rng, shape=(12, 12, 2)) -> dict:
    """One tiny subject's files (random signals; a square mask, lesion map and WM labels)."""
    mask = np.zeros(shape, np.uint8)
    mask[2:10, 2:10] = 1
    paths = {k: root / f"{name}_{k}.nii.gz" for k in
             ("mdme", "mask", "target", "conventional", "lesions", "dseg")}  # fmt: skip
    save(rng.uniform(1, 2, (*shape, 8)).astype(np.float32), AFFINE, paths["mdme"])
    save(mask, AFFINE, paths["mask"], dtype=np.uint8)
    for key in ("target", "conventional"):
        save(rng.uniform(1, 2, shape).astype(np.float32), AFFINE, paths[key])
    lesions = np.zeros(shape, np.uint8)
    lesions[4:7, 4:7, 0] = 1
    save(lesions, AFFINE, paths["lesions"], dtype=np.uint8)
    save((3 * mask).astype(np.uint8), AFFINE, paths["dseg"], dtype=np.uint8)
    return {"subject": name, **{k: str(v) for k, v in paths.items()}}


@pytest.fixture
def cohort(tmp_path):
    rng = np.random.default_rng(0)
    rows = [subject(tmp_path, f"t{i}", rng) for i in range(2)]
    manifest = tmp_path / "manifest.tsv"
    pd.DataFrame(rows).drop(columns=["lesions", "dseg"]).to_csv(manifest, sep="\t", index=False)
    validation = tmp_path / "validation.tsv"
    pd.DataFrame([subject(tmp_path, "v0", rng)]).to_csv(validation, sep="\t", index=False)
    preset = tmp_path / "preset.yaml"
    preset.write_text(yaml.safe_dump(PRESET))
    return tmp_path, manifest, validation, preset


def argv(root, manifest, validation, preset, stage="1"):
    return ["train", "--stage", stage, "--manifest", str(manifest), "--config", str(preset),
            "--out", str(root / "out" / "model.pt"), "--workdir", str(root / "work"),
            "--device", "cpu", "--validation", str(validation)]  # fmt: skip


def edit_validation(path: Path, change) -> None:
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    change(frame).to_csv(path, sep="\t", index=False)


VALIDATION_CASES = {
    "missing file": (lambda v, m: v.unlink(), ["validation.tsv", "no such file"]),
    "lesions without dseg": (
        lambda v, m: edit_validation(v, lambda f: f.drop(columns="dseg")),
        ["validation.tsv", "'dseg'", "both"],
    ),
    "empty dseg cell": (
        lambda v, m: edit_validation(v, lambda f: f.assign(dseg="")),
        ["validation.tsv, line 2", "both"],
    ),
    "validation subject also trained on": (
        lambda v, m: edit_validation(v, lambda f: f.assign(subject="t1")),
        ["validation.tsv", "'t1'", "must not be trained on"],
    ),
    "lesion map on another grid": (
        lambda v, m: save(
            np.zeros((12, 12, 3), np.uint8),
            AFFINE,
            Path(pd.read_csv(v, sep="\t")["lesions"][0]),
            dtype=np.uint8,
        ),
        ["v0_lesions.nii.gz"],
    ),
}


@pytest.mark.parametrize("case", list(VALIDATION_CASES))
def test_bad_validation_manifest(cohort, capsys, case):
    root, manifest, validation, preset = cohort
    change, names = VALIDATION_CASES[case]
    change(validation, manifest)
    assert_refused(argv(root, manifest, validation, preset), capsys, names=names,
                   outputs=[root / "out" / "model.pt"], inputs=[manifest])  # fmt: skip


RECIPE_CASES = {
    "no stage-2 term": ({"objective": {"adversarial": 0.0, "paired": 0.0}},
                        ["objective.adversarial or objective.paired"]),
    "hyperintensity without voxel batches": (
        {"objective": {"voxels": 0, "hyper_threshold": 1.0}}, ["objective.hyper_threshold"]),
    "quantile 1": ({"objective": {"hyper_quantile": 1.0}}, ["objective.hyper_quantile"]),
    "unknown paired loss": ({"objective": {"paired_loss": "l2"}}, ["objective.paired_loss"]),
    "negative voxels": ({"objective": {"voxels": -8}}, ["objective.voxels"]),
    "negative weight": ({"objective": {"paired": -1.0}}, ["objective.paired"]),
    "negative contrast floor": ({"selection": {"min_contrast": -0.1}},
                                ["selection.min_contrast"]),
    "selection every as text": ({"selection": {"every": "often"}}, ["selection.every"]),
    "lr_final 0": ({"stage2": {"lr_final": 0.0}}, ["stage2.lr_final", "(0, 1]"]),
    "unknown objective key": ({"objective": {"lesion_weight": 50}}, ["objective.lesion_weight"]),
    "lesion share 1": ({"objective": {"lesion_share": 1.0}}, ["objective.lesion_share"]),
    "lesion share without voxel batches": ({"objective": {"voxels": 0, "lesion_share": 0.1}},
                                           ["objective.lesion_share"]),
    "lesion share, manifest without lesion maps": ({"objective": {"lesion_share": 0.1}},
                                                   ["manifest.tsv", "'lesions' column",
                                                    "objective.lesion_share"]),
    "relative as text": ({"data": {"relative": "yes"}}, ["data.relative", "true or false"]),
    "relative, manifest without the synthetic FLAIR": (
        {"data": {"relative": True}}, ["manifest.tsv", "'synthetic' column", "data.relative"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(RECIPE_CASES))
def test_bad_recipe_keys(cohort, capsys, case):
    root, manifest, validation, preset = cohort
    change, names = RECIPE_CASES[case]
    mapping = yaml.safe_load(preset.read_text())
    for section, values in change.items():
        mapping[section] = {**mapping.get(section, {}), **values}
    preset.write_text(yaml.safe_dump(mapping))
    assert_refused(argv(root, manifest, validation, preset), capsys,
                   names=["preset.yaml", *names], outputs=[root / "out" / "model.pt"],
                   inputs=[manifest, validation])  # fmt: skip


ROOT = Path(__file__).resolve().parents[2]
SPLIT_CASES = {
    "test fraction 0": ("phantom", "test_fraction", 0, ["'phantom.test_fraction'", "0"]),
    "test fraction 1": ("phantom", "test_fraction", 1.0, ["'phantom.test_fraction'", "1.0"]),
    "test fraction as text": ("phantom", "test_fraction", "half",
                              ["'phantom.test_fraction'", "'half'"]),
    "validation fraction 1": ("training", "validation_fraction", 1,
                              ["'training.validation_fraction'", "1"]),
    "validation fraction negative": ("training", "validation_fraction", -0.2,
                                     ["'training.validation_fraction'", "-0.2"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SPLIT_CASES))
def test_bad_split_fractions_stop_before_any_job(case):
    """The workflow config's split keys are refused by the schema check common.smk runs."""
    from synflair.errors import SynflairError
    from synflair.schema import check_against_schema, load_schema

    section, key, value, names = SPLIT_CASES[case]
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config[section][key] = value
    schema = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    with pytest.raises(SynflairError) as info:
        check_against_schema(config, schema)
    message = str(info.value)
    assert "\n" not in message
    for name in names:
        assert name in message, message


@pytest.mark.parametrize("threads", ["0", "-2"])
def test_bad_thread_count(cohort, capsys, threads):
    root, manifest, validation, preset = cohort
    assert_refused([*argv(root, manifest, validation, preset), "--threads", threads], capsys,
                   names=["--threads", "positive integer", threads],
                   outputs=[root / "out" / "model.pt"], inputs=[manifest])  # fmt: skip
