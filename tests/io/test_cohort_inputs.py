"""Sheet rows with a study folder or NIfTI files; BIDS datasets as the cohort (synflair.cohort)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synflair.cohort import read_bids, read_sheet
from synflair.errors import SynflairError
from synflair.schema import load_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "subjects.schema.yaml")


def _sheet(folder: Path, rows: list[dict]) -> Path:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["\t".join(columns)] + ["\t".join(row.get(c, "") for c in columns) for row in rows]
    path = folder / "subjects.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def inputs(tmp_path) -> Path:
    for name in ("exam1", "exam2", "dicom/mdme", "dicom/flair"):
        (tmp_path / name).mkdir(parents=True)
    for name in ("n/mdme.nii.gz", "n/mdme.json", "n/flair.nii.gz"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def test_study_rows_and_nifti_rows(inputs):
    sheet = _sheet(inputs, [
        {"subject": "01", "study": "exam1", "split": "train"},
        {"subject": "02", "study": "exam2", "mdme_series": "1.2.3.4", "flair_series": "7",
         "split": "test"},
        {"subject": "03", "mdme": "n/mdme.nii.gz", "flair": "n/flair.nii.gz", "split": "train"},
        {"subject": "04", "mdme": "dicom/mdme", "flair": "dicom/flair", "split": "test"},
        {"subject": "05", "study": "exam1", "flair": "dicom/flair", "split": "test"},
    ])  # fmt: skip
    subjects = {s.subject: s for s in read_sheet(sheet, SCHEMA)}
    exam1, exam2 = str(inputs / "exam1"), str(inputs / "exam2")
    assert subjects["01"].source("mdme") == ["--study", exam1]
    assert subjects["01"].source("flair") == ["--study", exam1]
    assert subjects["01"].inputs("mdme") == [exam1]
    assert subjects["02"].source("mdme") == ["--study", exam2, "--series", "1.2.3.4"]
    assert subjects["02"].source("flair") == ["--study", exam2, "--series", "7"]
    nifti = str(inputs / "n" / "mdme.nii.gz")
    assert subjects["03"].source("mdme") == ["--nifti", nifti]
    assert subjects["03"].inputs("mdme") == [nifti, str(inputs / "n" / "mdme.json")]
    assert subjects["03"].inputs("flair") == [str(inputs / "n" / "flair.nii.gz")]  # no sidecar
    assert subjects["04"].source("mdme") == ["--dicom", str(inputs / "dicom" / "mdme")]
    assert subjects["05"].source("mdme") == ["--study", exam1]
    assert subjects["05"].source("flair") == ["--dicom", str(inputs / "dicom" / "flair")]


BAD_ROWS = {
    "neither-study-nor-mdme": ({"flair": "dicom/flair"}, ["column 'mdme': missing (required)"]),
    "study-and-both-series": (
        {"study": "exam1", "mdme": "dicom/mdme", "flair": "dicom/flair"},
        ["'mdme' and 'flair' and 'study' are all given"],
    ),
    "series-choice-without-study": (
        {"mdme": "dicom/mdme", "flair": "dicom/flair", "mdme_series": "3"},
        ["column 'mdme_series' '3'", "no 'study'"],
    ),
    "series-choice-not-a-uid": (
        {"study": "exam1", "flair_series": "FLAIR"},
        ["column 'flair_series'", "'FLAIR'"],
    ),
    "missing-study": ({"study": "nowhere"}, ["column 'study': folder", "nowhere"]),
    "mdme-nifti-without-sidecar": (
        {"mdme": "n/flair.nii.gz", "flair": "dicom/flair"},
        ["sidecar", "flair.json does not exist"],
    ),
    "flair-nifti-missing": (
        {"mdme": "dicom/mdme", "flair": "n/none.nii.gz"},
        ["column 'flair': file", "none.nii.gz does not exist"],
    ),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_bad_rows_refused(case, inputs):
    row, names = BAD_ROWS[case]
    sheet = _sheet(inputs, [
        {"subject": "01", "study": "exam1", "split": "train"},
        {"subject": "02", "split": "test", **row},
    ])  # fmt: skip
    with pytest.raises(SynflairError) as info:
        read_sheet(sheet, SCHEMA)
    assert "line 3" in str(info.value)
    for name in names:
        assert name in str(info.value)


def _bids(root: Path, labels=("01", "02"), splits=("train", "test")) -> Path:
    root.mkdir()
    (root / "dataset_description.json").write_text(json.dumps({"Name": "x", "BIDSVersion": "1.9"}))
    rows = ["participant_id\tsplit"] + [
        f"sub-{a}\t{b}" for a, b in zip(labels, splits, strict=True)
    ]
    (root / "participants.tsv").write_text("\n".join(rows) + "\n")
    for label in labels:
        anat = root / f"sub-{label}" / "anat"
        anat.mkdir(parents=True)
        for name in ("FLAIR.nii.gz", "mdme.nii.gz", "mdme.json"):
            (anat / f"sub-{label}_{name}").write_bytes(b"x")
    return root


def test_bids_dataset(tmp_path):
    root = _bids(tmp_path / "bids")
    subjects = read_bids(root)
    assert [(s.subject, s.split) for s in subjects] == [("01", "train"), ("02", "test")]
    anat = root / "sub-01" / "anat"
    assert subjects[0].source("mdme") == ["--nifti", str(anat / "sub-01_mdme.nii.gz")]
    assert subjects[0].source("flair") == ["--nifti", str(anat / "sub-01_FLAIR.nii.gz")]
    flipped = read_bids(root, {"sub-01": "test", "02": "train"})
    assert [s.split for s in flipped] == ["test", "train"]


def _no_split_column(root):
    (root / "participants.tsv").write_text("participant_id\nsub-01\nsub-02\n")
    return ["participants.tsv: missing column(s) split", "bids_split"]


def _no_participants(root):
    (root / "participants.tsv").unlink()
    return ["participants.tsv does not exist", "bids_split"]


def _missing_sidecar(root):
    (root / "sub-02" / "anat" / "sub-02_mdme.json").unlink()
    return ["sub-02_mdme.json: no such file"]


def _missing_flair(root):
    (root / "sub-01" / "anat" / "sub-01_FLAIR.nii.gz").unlink()
    return ["no sub-01_FLAIR.nii.gz", "FLAIR NIfTI"]


def _session(root):
    (root / "sub-01" / "ses-1" / "anat").mkdir(parents=True)
    return ["sessions (ses-*) are not supported"]


def _bad_split(root):
    (root / "participants.tsv").write_text("participant_id\tsplit\nsub-01\ttrain\nsub-02\tval\n")
    return ["subject sub-02: split 'val'", "'train' or 'test'"]


def _extra_participant(root):
    rows = "participant_id\tsplit\nsub-01\ttrain\nsub-02\ttest\nsub-03\ttest\n"
    (root / "participants.tsv").write_text(rows)
    return ["['03'] are not in"]


def _one_split(root):
    (root / "participants.tsv").write_text("participant_id\tsplit\nsub-01\ttest\nsub-02\ttest\n")
    return ["no 'train' subject"]


BAD_BIDS = {
    "no-split-column": _no_split_column,
    "no-participants": _no_participants,
    "missing-mdme-sidecar": _missing_sidecar,
    "missing-flair": _missing_flair,
    "session": _session,
    "bad-split": _bad_split,
    "participant-without-folder": _extra_participant,
    "one-split-only": _one_split,
}


@pytest.mark.parametrize("case", BAD_BIDS)
def test_bad_bids_refused(case, tmp_path):
    root = _bids(tmp_path / "bids")
    names = BAD_BIDS[case](root)
    with pytest.raises(SynflairError) as info:
        read_bids(root)
    for name in names:
        assert name in str(info.value)


def test_bids_path_must_be_a_dataset(tmp_path):
    with pytest.raises(SynflairError, match=r"config key 'bids'.*not a folder"):
        read_bids(tmp_path / "missing")
    with pytest.raises(SynflairError, match="holds no sub-<label> folder"):
        read_bids(tmp_path)
