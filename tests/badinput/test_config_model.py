"""Config key ``model`` (apply a trained model): refused naming the key, and the cohort it allows.

The functions ``workflow/rules/common.smk`` calls, in process (as
``test_config.py``): the schema check, :func:`synflair.cohort.check_config_references`
and the cohort readers with ``apply=True``. A bad ``model`` value is one line
naming ``config key 'model'``; applying a model needs no training preset, no
``split`` and no conventional FLAIR, but still the MDME source.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from synflair.cohort import check_config_references, read_bids, read_sheet
from synflair.errors import SynflairError
from synflair.io.sidecar import MDMESidecar, write_mdme_sidecar
from synflair.nifti import save
from synflair.schema import check_against_schema, load_schema

ROOT = Path(__file__).resolve().parents[2]
CONFIG_SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
SHEET_SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "subjects.schema.yaml")
BASE = yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())


def _refused(call) -> str:
    with pytest.raises(SynflairError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    return message


def _config(model) -> dict:
    config = copy.deepcopy(BASE)
    config["model"] = model
    return config


@pytest.mark.parametrize(
    "value, fragments",
    [
        (5, ["config key 'model': 5 is invalid", "type ['string', 'null']"]),
        ("", ["config key 'model': '' is invalid"]),
        (["a.pt"], ["config key 'model'", "type ['string', 'null']"]),
    ],
    ids=["number", "empty", "list"],
)
def test_model_key_of_the_wrong_form_is_refused(value, fragments):
    message = _refused(lambda: check_against_schema(_config(value), CONFIG_SCHEMA))
    for fragment in fragments:
        assert fragment in message, message


def _files(folder: Path) -> None:
    (folder / "models").mkdir()
    (folder / "models" / "notes.pt").write_text("weights: see the lab wiki\n")
    torch.save({"format": "synflair-model"}, folder / "models" / "model.pt")
    (folder / "models" / "{site}").mkdir()
    torch.save({}, folder / "models" / "{site}" / "model.pt")


@pytest.mark.parametrize(
    "value, fragments",
    [
        ("models/none.pt", ["config key 'model'", "models/none.pt does not exist",
                            "model.pt written by synflair train"]),
        ("models", ["config key 'model'", "models is a folder"]),
        ("models/notes.pt", ["config key 'model'", "notes.pt is not a torch archive"]),
        ("models/{site}/model.pt", ["config key 'model'", "'{site}'", "wildcard"]),
    ],
    ids=["missing", "folder", "not-an-archive", "wildcard"],
)  # fmt: skip
def test_model_path_that_is_no_model_file_is_refused(value, fragments, tmp_path, monkeypatch):
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    config = _config(value)
    check_against_schema(config, CONFIG_SCHEMA)  # valid in form; wrong in what it names
    message = _refused(lambda: check_config_references(config, ["p01", "p02"]))
    for fragment in fragments:
        assert fragment in message, message


def test_applying_a_model_needs_no_training_preset(tmp_path, monkeypatch):
    """The control: a torch archive is accepted, and the (unused) preset is not looked for."""
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    config = _config("models/model.pt")
    config["training"]["preset"] = "config/train/nope.yaml"
    check_config_references(config, ["p01"])
    config["model"] = None  # training: the preset must exist
    assert "config key 'training.preset'" in _refused(lambda: check_config_references(config, []))


def _sheet(folder: Path, header: list[str], rows: list[list[str]]) -> Path:
    for row in rows:
        for cell in row[1:]:
            if "/" in cell:
                (folder / cell).mkdir(parents=True, exist_ok=True)
    path = folder / "subjects.tsv"
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n")
    return path


def test_applying_a_model_reads_a_sheet_without_split_or_flair(tmp_path):
    sheet = _sheet(tmp_path, ["subject", "mdme"], [["p01", "p01/mdme"], ["p02", "p02/mdme"]])
    subjects = read_sheet(sheet, SHEET_SCHEMA, apply=True)
    assert [(s.subject, s.split, s.flair) for s in subjects] == [
        ("p01", "test", None),
        ("p02", "test", None),
    ]
    # an empty flair cell, and a split cell (ignored: every subject is applied to)
    rows = [["p01", "p01/mdme", "p01/flair", "train"], ["p02", "p02/mdme", "", "train"]]
    sheet = _sheet(tmp_path, ["subject", "mdme", "flair", "split"], rows)
    subjects = read_sheet(sheet, SHEET_SCHEMA, apply=True)
    assert [(s.split, bool(s.flair)) for s in subjects] == [("test", True), ("test", False)]
    # the same sheet when training: the FLAIR and a test subject are required
    assert "column 'flair'" in _refused(lambda: read_sheet(sheet, SHEET_SCHEMA))


@pytest.mark.parametrize(
    "header, rows, fragments",
    [
        (["subject", "flair"], [["p01", "p01/flair"]], ["missing required column 'mdme'"]),
        (["subject", "mdme"], [["p01", ""]], ["line 2: column 'mdme': missing (required)"]),
        (["mdme"], [["p01/mdme"]], ["missing required column 'subject'"]),
    ],
    ids=["no-mdme-column", "empty-mdme", "no-subject-column"],
)
def test_applying_a_model_still_needs_the_mdme(header, rows, fragments, tmp_path):
    sheet = _sheet(tmp_path, header, rows)
    message = _refused(lambda: read_sheet(sheet, SHEET_SCHEMA, apply=True))
    assert message.startswith(str(sheet)), message
    for fragment in fragments:
        assert fragment in message, message


def test_applying_a_model_reads_a_bids_dataset_without_flair_or_split(tmp_path):
    """No *_FLAIR.nii.gz and no participants.tsv: every subject is applied to."""
    sidecar = MDMESidecar((16.9, 84.5) * 4, (146.0,) * 2 + (546.0,) * 2 + (1879.0,) * 2
                          + (3879.0,) * 2, 4000.0, 90.0, 120.0, "magnitude")  # fmt: skip
    for label in ("a01", "a02"):
        anat = tmp_path / f"sub-{label}" / "anat"
        save(np.ones((4, 4, 2, 8), np.float32), np.eye(4), anat / f"sub-{label}_mdme.nii.gz")
        write_mdme_sidecar(anat / f"sub-{label}_mdme.json", sidecar)
    subjects = read_bids(tmp_path, apply=True)
    assert [(s.subject, s.split, s.flair) for s in subjects] == [
        ("a01", "test", None),
        ("a02", "test", None),
    ]
    assert "FLAIR" in _refused(lambda: read_bids(tmp_path, {"a01": "train", "a02": "test"}))
