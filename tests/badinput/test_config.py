"""Bad workflow configs and subject sheets: refused before any job, naming the key or row.

Each case goes through the functions ``workflow/rules/common.smk`` calls, in
process: :func:`synflair.schema.check_against_schema` (the config),
:func:`synflair.cohort.read_sheet` (the subject sheet) and
:func:`synflair.cohort.check_config_references` (the config's files and
subject names). Each asserts a one-line :class:`SynflairError` that names the
config key or the sheet's line and column and says what was expected, and that
no command hidden in a value ran.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from synflair.cohort import check_config_references, read_sheet
from synflair.errors import SynflairError
from synflair.schema import check_against_schema, load_schema

ROOT = Path(__file__).resolve().parents[2]
CONFIG_SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
SHEET_SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "subjects.schema.yaml")
BASE = yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())


def _refused(call) -> str:
    """The message of the SynflairError ``call()`` raises; it must be one line."""
    with pytest.raises(SynflairError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    return message


def _changed(changes: dict) -> dict:
    config = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = config
        for key in parents:
            node = node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return config


DELETE = object()

CONFIG_CASES = {
    # key: (changes, fragments the message must hold)
    "delay-attribute-injection": (
        {"conversion.delay_attribute": "TriggerTime;touch X"},
        ["config key 'conversion.delay_attribute'", "'TriggerTime;touch X'", "DICOM keyword"],
    ),
    "delay-attribute-substitution": (
        {"conversion.delay_attribute": "$(touch X)"},
        ["config key 'conversion.delay_attribute'", "DICOM keyword such as TriggerTime"],
    ),
    "ir-index-out-of-range": (
        {"preprocess.ir_index": [5, 99]},
        ["config key 'preprocess.ir_index[1]': 99 is invalid", "<= 8", "1 to 8"],
    ),
    "t2-index-zero": (
        {"preprocess.t2_index": [0, 7]},
        ["config key 'preprocess.t2_index[0]': 0 is invalid", ">= 1", "1 to 8"],
    ),
    "t2-index-same-image-twice": (
        {"preprocess.t2_index": [7, 7]},
        ["config key 'preprocess.t2_index': [7, 7] is invalid", "two different"],
    ),
    "ir-index-one-number": (
        {"preprocess.ir_index": [5]},
        ["config key 'preprocess.ir_index': [5] is invalid", "at least 2 item(s)"],
    ),
    "ir-index-fraction": (
        {"preprocess.ir_index": [5.5, 7]},
        ["config key 'preprocess.ir_index[0]': 5.5 is invalid", "type integer"],
    ),
    "unknown-phantom-preset": (
        {"phantom.preset": "huge"},
        ["config key 'phantom.preset': 'huge' is invalid", "one of ['ci', 'demo', 'paper']"],
    ),
    "one-subject": (
        {"phantom.subjects": 1},
        ["config key 'phantom.subjects': 1 is invalid", "a number >= 2"],
    ),
    "subjects-boolean": (
        {"phantom.subjects": True},
        ["config key 'phantom.subjects': True is invalid", "type integer"],
    ),
    "dof-not-6-or-12": (
        {"registration.dof": 7},
        ["config key 'registration.dof': 7 is invalid", "one of [6, 12]"],
    ),
    "peak-nan": (
        {"metrics.peak": float("nan")},
        ["config key 'metrics.peak': nan is invalid", "a finite number"],
    ),
    "threshold-infinite": (
        {"preprocess.ir_threshold": float("inf")},
        ["config key 'preprocess.ir_threshold': inf is invalid", "a finite number"],
    ),
    "negative-tr": (
        {"quantification.synthetic_flair.tr": -15000.0},
        ["config key 'quantification.synthetic_flair.tr': -15000.0 is invalid", "a number > 0"],
    ),
    "unknown-key": (
        {"training.epochs": 3},
        ["unknown config key 'training.epochs'", "expected keys here: device, iterations"],
    ),
    "missing-key": (
        {"metrics.scaling": DELETE},
        ["config key 'metrics.scaling': missing (required)"],
    ),
    "unknown-cohort": (
        {"cohort": "folder"},
        ["config key 'cohort': 'folder' is invalid", "one of ['phantom', 'sheet', 'bids']"],
    ),
    "zero-iterations": (
        {"training.iterations": 0},
        ["config key 'training.iterations': 0 is invalid", "a number >= 1"],
    ),
    "representative-number": (
        {"report.representative": 5},
        ["config key 'report.representative': 5 is invalid", "type ['string', 'array', 'null']"],
    ),
}


@pytest.mark.parametrize("changes, fragments", CONFIG_CASES.values(), ids=CONFIG_CASES.keys())
def test_config_refused(changes, fragments, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = _refused(lambda: check_against_schema(_changed(changes), CONFIG_SCHEMA))
    for fragment in fragments:
        assert fragment in message, message
    assert list(tmp_path.iterdir()) == []  # no injected command ran here


def test_shipped_configs_pass():
    """The cases above fail because of their change, not because the base is invalid."""
    for name in ("config.yaml", "ci.yaml", "paper.yaml"):
        check_against_schema(yaml.safe_load((ROOT / "config" / name).read_text()), CONFIG_SCHEMA)
    check_against_schema(_changed({"conversion.delay_attribute": "0019,105a"}), CONFIG_SCHEMA)


# --- config keys that name files and subjects (checked against the cohort) ---------------

REFERENCE_CASES = {
    "missing-training-preset": (
        {"training.preset": "config/train/nope.yaml"},
        ["config key 'training.preset'", "nope.yaml does not exist", "expected a training YAML"],
    ),
    "override-unknown-subject": (
        {"lesions.override": {"sub-zz": "mask.nii.gz"}},
        ["config key 'lesions.override.sub-zz'", "no such subject", "['p01', 'p02']"],
    ),
    "override-missing-file": (
        {"lesions.override": {"p01": "none.nii.gz"}},
        ["config key 'lesions.override.p01'", "none.nii.gz does not exist", "lesion mask"],
    ),
    "override-wildcard-in-path": (
        {"lesions.override": {"p01": "masks/{subject}.nii.gz"}},
        ["config key 'lesions.override.p01'", "'{subject}'", "expected a path without"],
    ),
    "representative-unknown": (
        {"report.representative": ["p01", "sub-p09"]},
        ["config key 'report.representative'", "no subject 'sub-p09'", "['p01', 'p02']"],
    ),
}


@pytest.mark.parametrize("changes, fragments", REFERENCE_CASES.values(), ids=REFERENCE_CASES.keys())
def test_config_reference_refused(changes, fragments, tmp_path, monkeypatch):
    (tmp_path / "config" / "train").mkdir(parents=True)
    (tmp_path / "config" / "train" / "ci.yaml").write_text("{}\n")
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "{subject}.nii.gz").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    config = _changed(changes)
    check_against_schema(config, CONFIG_SCHEMA)  # valid in form; wrong only in what it names
    message = _refused(lambda: check_config_references(config, ["p01", "p02"]))
    for fragment in fragments:
        assert fragment in message, message


# --- subject sheets --------------------------------------------------------------------

GOOD_ROWS = [["p01", "p01/mdme", "p01/flair", "train"], ["p02", "p02/mdme", "p02/flair", "test"]]
HEADER = ["subject", "mdme", "flair", "split"]


def _sheet(folder: Path, rows, header=HEADER, make=()) -> Path:
    for name in make:
        (folder / name).mkdir(parents=True, exist_ok=True)
    path = folder / "subjects.tsv"
    path.write_text("\n".join("\t".join(row) for row in [header, *rows]) + "\n")
    return path


def _good_folders():
    return [f"p0{i}/{kind}" for i in (1, 2) for kind in ("mdme", "flair")]


SHEET_CASES = {
    # key: (rows, header, extra folders to make, fragments the message must hold)
    "missing-folder": (
        [GOOD_ROWS[0], ["p02", "p02/mdme", "p02/FLAIR", "test"]],
        HEADER,
        [],
        ["line 3: column 'flair'", "p02/FLAIR does not exist"],
    ),
    "duplicated-subject": (
        [*GOOD_ROWS, ["p01", "p02/mdme", "p02/flair", "test"]],
        HEADER,
        [],
        ["line 4", "subject 'p01' appears twice", "exactly one split"],
    ),
    "bad-split": (
        [GOOD_ROWS[0], ["p02", "p02/mdme", "p02/flair", "holdout"]],
        HEADER,
        [],
        ["line 3: column 'split': 'holdout' is invalid", "one of ['train', 'test']"],
    ),
    "injected-subject-id": (
        [["p01$(touch X)", "p01/mdme", "p01/flair", "train"], GOOD_ROWS[1]],
        HEADER,
        [],
        ["line 2: column 'subject': 'p01$(touch X)' is invalid", "^[A-Za-z0-9]+$"],
    ),
    "subject-id-with-path": (
        [GOOD_ROWS[0], ["../p02", "p02/mdme", "p02/flair", "test"]],
        HEADER,
        [],
        ["line 3: column 'subject': '../p02' is invalid", "letters and digits only"],
    ),
    "non-ascii-subject-id": (
        [GOOD_ROWS[0], ["p\u00e902", "p02/mdme", "p02/flair", "test"]],
        HEADER,
        [],
        ["line 3: column 'subject': 'p\u00e902' is invalid", "^[A-Za-z0-9]+$"],
    ),
    "wildcard-in-folder": (
        [GOOD_ROWS[0], ["p02", "p02/{subject}", "p02/flair", "test"]],
        HEADER,
        ["p02/{subject}"],
        ["line 3: column 'mdme'", "'{subject}'", "Snakemake reads as a wildcard"],
    ),
    "empty-mdme": (
        [GOOD_ROWS[0], ["p02", "", "p02/flair", "test"]],
        HEADER,
        [],
        ["line 3: column 'mdme': missing (required)"],
    ),
    "unknown-column": (
        [[*row, "x"] for row in GOOD_ROWS],
        [*HEADER, "age"],
        [],
        ["subjects.tsv: unknown column(s) ['age']", "expected columns among"],
    ),
    "missing-split-column": (
        [row[:3] for row in GOOD_ROWS],
        HEADER[:3],
        [],
        ["subjects.tsv: missing required column 'split'"],
    ),
    "no-test-subject": (
        [GOOD_ROWS[0], ["p02", "p02/mdme", "p02/flair", "train"]],
        HEADER,
        [],
        ["subjects.tsv: no 'test' subject", "at least one of each split"],
    ),
}


@pytest.mark.parametrize(
    "rows, header, extra, fragments", SHEET_CASES.values(), ids=SHEET_CASES.keys()
)
def test_sheet_refused(rows, header, extra, fragments, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sheet = _sheet(tmp_path, rows, header, make=[*_good_folders(), *extra])
    before = sheet.read_bytes()
    message = _refused(lambda: read_sheet(sheet, SHEET_SCHEMA))
    assert message.startswith(str(sheet)), message
    for fragment in fragments:
        assert fragment in message, message
    assert sheet.read_bytes() == before
    assert not (tmp_path / "X").exists()


def test_hostile_folder_names_are_read_as_they_are(tmp_path):
    """Apostrophes, $(...), backticks, spaces and ';' (FLAIR column) are plain characters."""
    mdme, flair = "x'$(touch X)'y `id` $HOME", "O'Brien; rm -rf ~ {}"
    sheet = _sheet(
        tmp_path,
        [["p01", mdme, flair, "train"], GOOD_ROWS[1]],
        make=[mdme, flair, *_good_folders()],
    )
    subjects = read_sheet(sheet, SHEET_SCHEMA)
    assert subjects[0].mdme == (str(tmp_path / mdme),)
    assert subjects[0].flair == str(tmp_path / flair)
