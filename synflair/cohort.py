"""The subjects a workflow run processes: the phantom cohort, a subject sheet or a BIDS dataset.

A subject sheet is a tab-separated table with the columns of
``workflow/schemas/subjects.schema.yaml``: ``subject``, ``split`` (``train`` or
``test``), the MDME and FLAIR sources, and optional ``lesion_mask``,
``vendor_flair``, ``vendor_t1w``, ``vendor_mask``. The sources are either

* ``mdme`` (MDME DICOM folder(s), ``;``-separated, or the 4D MDME NIfTI with
  synflair's JSON sidecar beside it) and ``flair`` (conventional FLAIR DICOM
  folder or NIfTI), or
* ``study``: one study folder holding every series of the exam, in which
  :mod:`synflair.io.study` finds the MDME raw series and the conventional FLAIR
  (optional ``mdme_series`` / ``flair_series``: the SeriesInstanceUID or
  SeriesNumber that chooses when several series fit). A ``mdme`` or ``flair``
  cell given beside ``study`` takes precedence for that image.

Relative paths are relative to the sheet's folder. :func:`read_sheet` checks
what a JSON schema cannot: unique subjects, folders and files that exist, and
both splits present. :func:`read_bids` reads a BIDS dataset as the cohort
(layout in config/README.md).

**Applying a trained model** (config key ``model``; ``apply=True`` here):
every subject is a test subject, so a sheet needs no ``split`` column (a
given one is ignored) and a subject needs no conventional FLAIR (``flair``
may be absent or empty; a BIDS subject may lack ``*_FLAIR.nii.gz``, and the
dataset needs no split).

Folder names may hold any character a file system allows (apostrophes, spaces,
``$``, backticks; ``;`` except in the ``mdme`` column, where it separates
folders): the workflow passes them to its jobs shell-quoted. The one exception
is a ``{name}`` pattern, which Snakemake reads as a wildcard in every input
path; such a path is refused with the row and column.
:func:`check_config_references` checks that the config's paths and subject
names exist.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from synflair.errors import SynflairError
from synflair.schema import check_against_schema

SHEET_COLUMNS = (
    "subject",
    "mdme",
    "flair",
    "study",
    "mdme_series",
    "flair_series",
    "split",
    "lesion_mask",
    "vendor_flair",
    "vendor_t1w",
    "vendor_mask",
)
OPTIONAL_FOLDERS = ("vendor_flair", "vendor_t1w", "vendor_mask")
#: A subject label: BIDS label characters only (it becomes part of file names and job names).
SUBJECT_LABEL = re.compile(r"[A-Za-z0-9]+")
#: What Snakemake reads as a wildcard in an input path (snakemake.io.WILDCARD_REGEX, simplified).
_WILDCARD = re.compile(r"\{\s*[.\w]+\s*(,[^{}]*)?\}")


@dataclass(frozen=True)
class Subject:
    """One subject's inputs.

    Attributes
    ----------
    subject : str
        Label without the ``sub-`` prefix.
    split : {"train", "test"}
    mdme : tuple of str
        MDME DICOM folder(s), or one MDME NIfTI; empty when found in ``study``.
    flair : str or None
        Conventional FLAIR DICOM folder or NIfTI; None when found in ``study``.
    lesion_mask : str or None
        A lesion mask that overrides the automatic segmentation.
    vendor : dict
        Optional vendor series: keys among ``flair``, ``t1w``, ``mask``.
    study : str or None
        A study folder in which the MDME and/or FLAIR series are found.
    mdme_series, flair_series : str or None
        SeriesInstanceUID or SeriesNumber choosing the series in ``study``.
    """

    subject: str
    split: str
    mdme: tuple[str, ...]
    flair: str | None
    lesion_mask: str | None = None
    vendor: dict[str, str] = field(default_factory=dict)
    study: str | None = None
    mdme_series: str | None = None
    flair_series: str | None = None

    def source(self, kind: str) -> list[str]:
        """The ``synflair dicom2nifti`` source arguments of ``kind`` (``"mdme"``, ``"flair"``).

        ``["--dicom", folder, ...]``, ``["--nifti", file]`` or
        ``["--study", folder]`` (+ ``["--series", choice]``): one word each.
        """
        given = self.mdme if kind == "mdme" else ((self.flair,) if self.flair else ())
        if given:
            if len(given) == 1 and is_nifti(given[0]):
                return ["--nifti", given[0]]
            return ["--dicom", *given]
        choice = self.mdme_series if kind == "mdme" else self.flair_series
        return ["--study", self.study, *(["--series", choice] if choice else [])]

    def inputs(self, kind: str) -> list[str]:
        """The files and folders a conversion of ``kind`` reads (a NIfTI with its sidecar)."""
        words = self.source(kind)
        if words[0] == "--study":
            return [words[1]]
        if words[0] == "--nifti":
            sidecar = _sidecar(words[1])
            return [words[1], *([sidecar] if kind == "mdme" or Path(sidecar).is_file() else [])]
        return words[1:]


def read_sheet(
    path: str | os.PathLike, schema: dict | None = None, *, apply: bool = False
) -> list[Subject]:
    """Read and check a subject sheet.

    Parameters
    ----------
    path : path-like
        Tab-separated subject sheet.
    schema : dict, optional
        JSON schema of one row (``workflow/schemas/subjects.schema.yaml``); each
        row's non-empty cells are checked against it first
        (:func:`synflair.schema.check_against_schema`).
    apply : bool
        Applying a trained model: every subject is a test subject, ``split`` and
        ``flair`` are optional (see the module docstring).

    Returns
    -------
    list of Subject
        Paths resolved against the sheet's folder.

    Raises
    ------
    SynflairError
        Naming the sheet, the row and the column of the first problem found.
    """
    from synflair.tables import read_tsv

    path = Path(path)
    if not path.is_file():
        raise SynflairError(f"config key 'sheet': {path} does not exist (expected a TSV file)")
    frame = read_tsv(path, what="a subject sheet (config key 'sheet')")
    _check_columns(path, list(frame.columns), apply)
    if apply and schema is not None:
        schema = applied_row_schema(schema)
    base = path.parent
    subjects: list[Subject] = []
    seen: dict[str, str] = {}
    for number, row in enumerate(frame.to_dict("records"), start=2):
        where = f"{path}, line {number}"
        if schema is not None:
            check_against_schema({k: v for k, v in row.items() if v != ""}, schema, what=where)
        label = row["subject"].strip().removeprefix("sub-")
        if not SUBJECT_LABEL.fullmatch(label):
            raise SynflairError(
                f"{where}: column 'subject': {label!r} is invalid; expected ASCII letters and "
                "digits only (a BIDS label)"
            )
        split = "test" if apply else row["split"].strip()
        if split not in ("train", "test"):
            raise SynflairError(f"{where}: split must be 'train' or 'test', not {split!r}")
        if label in seen:
            raise SynflairError(
                f"{where}: subject {label!r} appears twice (first as {seen[label]!r}); a subject "
                "must be in exactly one split, so a test subject cannot also be a training subject"
            )
        seen[label] = split
        study, mdme, flair, choices = _sources(row, base, where, need_flair=not apply)
        lesion = row.get("lesion_mask", "").strip() or None
        if lesion is not None:
            lesion = _existing(base, lesion, where, "lesion_mask", directory=False)
        vendor = {
            column.removeprefix("vendor_"): _existing_dir(base, row[column], where, column)
            for column in OPTIONAL_FOLDERS
            if row.get(column, "").strip()
        }
        subjects.append(Subject(label, split, mdme, flair, lesion, vendor, study, *choices))
    if not apply:
        check_splits({s.subject: s.split for s in subjects}, str(path))
    return subjects


def _check_columns(path: Path, columns: list[str], apply: bool) -> None:
    """Refuse unknown columns and missing required ones (``split``, ``flair``: not when
    applying a model)."""
    unknown = sorted(set(columns) - set(SHEET_COLUMNS))
    if unknown:
        raise SynflairError(
            f"{path}: unknown column(s) {unknown}; expected columns among {list(SHEET_COLUMNS)}"
        )
    for column in ("subject",) if apply else ("subject", "split"):
        if column not in columns:
            raise SynflairError(f"{path}: missing required column '{column}'")
    if "study" not in columns:
        for column in ("mdme",) if apply else ("mdme", "flair"):
            if column not in columns:
                raise SynflairError(
                    f"{path}: missing required column '{column}' (or a 'study' column)"
                )


def applied_row_schema(schema: dict) -> dict:
    """The row schema when applying a model: only ``subject`` and the MDME source required."""
    return {**schema, "required": ["subject"], "then": {"required": ["mdme"]}}


def _sources(row: dict, base: Path, where: str, *, need_flair: bool = True):
    """(study, mdme, flair, (mdme_series, flair_series)) of one sheet row, checked; the
    conventional FLAIR may be absent when not ``need_flair`` (applying a model)."""
    study = row.get("study", "").strip() or None
    if study is not None:
        study = _existing_dir(base, study, where, "study")
    cells = {column: row.get(column, "").strip() for column in ("mdme", "flair")}
    choices = tuple(row.get(c, "").strip() or None for c in ("mdme_series", "flair_series"))
    if study is not None and all(cells.values()):
        raise SynflairError(
            f"{where}: columns 'mdme' and 'flair' and 'study' are all given; expected the "
            "study folder or the two series, not both (an empty 'mdme' or 'flair' is found "
            "in the study)"
        )
    for column, choice in zip(("mdme", "flair"), choices, strict=True):
        if choice is not None and (study is None or cells[column]):
            raise SynflairError(
                f"{where}: column '{column}_series' {choice!r} chooses a series of the study "
                f"folder, but the row has no 'study' or gives '{column}' itself; expected it "
                f"only with 'study' and an empty '{column}'"
            )
    mdme: tuple[str, ...] = ()
    if cells["mdme"]:
        parts = [part for part in cells["mdme"].split(";") if part.strip()]
        if len(parts) == 1 and is_nifti(parts[0]):
            mdme = (_existing(base, parts[0], where, "mdme", directory=False),)
            sidecar = _sidecar(mdme[0])
            if not Path(sidecar).is_file():
                raise SynflairError(
                    f"{where}: column 'mdme': the MDME NIfTI's sidecar {sidecar} does not exist "
                    "(expected the JSON that synflair dicom2nifti --kind mdme writes beside it)"
                )
        else:
            mdme = tuple(_existing_dir(base, part, where, "mdme") for part in parts)
    elif study is None:
        raise SynflairError(
            f"{where}: column 'mdme' is empty (expected a DICOM folder, an MDME NIfTI, or a "
            "'study' folder)"
        )
    flair = None
    if cells["flair"]:
        flair = _existing(
            base, cells["flair"], where, "flair", directory=not is_nifti(cells["flair"])
        )
    elif study is None and need_flair:
        raise SynflairError(
            f"{where}: column 'flair' is empty (expected a DICOM folder, a NIfTI, or a 'study' "
            "folder)"
        )
    return study, mdme, flair, choices


def is_nifti(path: str) -> bool:
    """Whether a sheet cell names a NIfTI file rather than a DICOM folder."""
    return str(path).strip().endswith((".nii", ".nii.gz"))


def _sidecar(nifti_path: str) -> str:
    name = str(nifti_path)
    stem = name[: -len(".nii.gz")] if name.endswith(".nii.gz") else name[: -len(".nii")]
    return stem + ".json"


def check_splits(splits: dict[str, str], where: str) -> None:
    """Require at least one training and one test subject."""
    for needed in ("train", "test"):
        if needed not in splits.values():
            raise SynflairError(f"{where}: no '{needed}' subject; need at least one of each split")


def read_bids(
    root: str | os.PathLike, splits: dict | None = None, *, apply: bool = False
) -> list[Subject]:
    """The subjects of a BIDS dataset: ``sub-<label>/anat/`` with the MDME and FLAIR NIfTI.

    Each subject needs ``sub-<label>_FLAIR.nii.gz`` (or ``.nii``) and the MDME
    NIfTI ``sub-<label>_mdme.nii.gz`` with its sidecar ``sub-<label>_mdme.json``
    (synflair's MDME sidecar; BIDS has no MDME suffix yet, see config/README.md).
    Sessions are not supported.

    Parameters
    ----------
    root : path-like
        The dataset folder.
    splits : dict, optional
        Subject label (with or without ``sub-``) -> ``"train"`` / ``"test"``
        (config key ``bids_split``); otherwise the ``split`` column of
        ``participants.tsv``.
    apply : bool
        Applying a trained model: every subject is a test subject (no split
        needed) and the FLAIR NIfTI is optional.

    Returns
    -------
    list of Subject

    Raises
    ------
    SynflairError
        Naming the dataset, subject or file: no subjects, a missing image or
        sidecar, sessions, a subject without a split, a split naming no subject.
    """

    root = Path(root)
    key = "config key 'bids'"
    if not root.is_dir():
        raise SynflairError(f"{key}: {root} is not a folder (expected a BIDS dataset)")
    check_input_path(str(root), key)
    folders = sorted(p for p in root.glob("sub-*") if p.is_dir())
    if not folders:
        raise SynflairError(f"{key}: {root} holds no sub-<label> folder (expected a BIDS dataset)")
    table, where = ({}, "") if apply else _bids_splits(root, splits)
    subjects = []
    for folder in folders:
        label = folder.name.removeprefix("sub-")
        if not SUBJECT_LABEL.fullmatch(label):
            raise SynflairError(f"{folder}: {label!r} is not a BIDS label (letters and digits)")
        if any(folder.glob("ses-*")):
            raise SynflairError(
                f"{folder}: sessions (ses-*) are not supported; expected sub-{label}/anat/ "
                "(make one dataset per session)"
            )
        anat = folder / "anat"
        mdme = _bids_file(anat, label, "mdme")
        flair = _bids_file(anat, label, "FLAIR", optional=apply)
        if not Path(_sidecar(mdme)).is_file():
            raise SynflairError(
                f"{_sidecar(mdme)}: no such file (expected the MDME sidecar beside {mdme})"
            )
        split = "test" if apply else table.pop(label, None)
        if split is None:
            raise SynflairError(
                f"{where}: no split for subject sub-{label}; expected 'train' or 'test' for "
                "every subject"
            )
        if split not in ("train", "test"):
            raise SynflairError(
                f"{where}: subject sub-{label}: split {split!r}; expected 'train' or 'test' "
                "for every subject"
            )
        subjects.append(Subject(label, split, (mdme,), flair))
    if table:
        raise SynflairError(
            f"{where}: subject(s) {sorted(table)} are not in {root} (no sub-<label> folder)"
        )
    if not apply:
        check_splits({s.subject: s.split for s in subjects}, where)
    return subjects


def _bids_splits(root: Path, splits: dict | None) -> tuple[dict[str, str], str]:
    """Subject label -> split, from config key ``bids_split`` or ``participants.tsv``; and
    where that came from (named in errors)."""
    from synflair.tables import read_tsv

    key = "config key 'bids'"
    if splits:
        where = "config key 'bids_split'"
        table = {str(k).removeprefix("sub-"): str(v) for k, v in splits.items()}
    else:
        participants = root / "participants.tsv"
        where = str(participants)
        if not participants.is_file():
            raise SynflairError(
                f"{key}: {participants} does not exist and config key 'bids_split' is not set; "
                "expected a 'split' column (train/test) in participants.tsv or the config key"
            )
        frame = read_tsv(
            participants,
            ("participant_id", "split"),
            what="the BIDS participants table with a train/test split (else config key "
            "'bids_split')",
        )
        table = {
            row["participant_id"].strip().removeprefix("sub-"): row["split"].strip()
            for row in frame.to_dict("records")
        }
    return table, where


def _bids_file(anat: Path, label: str, suffix: str, *, optional: bool = False) -> str | None:
    for extension in (".nii.gz", ".nii"):
        path = anat / f"sub-{label}_{suffix}{extension}"
        if path.is_file():
            check_input_path(str(path), f"{anat}")
            return str(path)
    if optional:
        return None
    raise SynflairError(
        f"{anat}: no sub-{label}_{suffix}.nii.gz (or .nii); expected the "
        f"{'MDME NIfTI with its JSON sidecar' if suffix == 'mdme' else 'FLAIR NIfTI'}"
    )


def phantom_subjects(root: str, n: int, test_fraction: float = 0.25) -> list[Subject]:
    """The phantom cohort's subjects, with DICOM folders under ``root/sub-<id>/dicom``.

    The last ``ceil(test_fraction n)`` subjects are test subjects
    (:func:`synflair.phantom.cohort.subject_splits`).
    """
    from synflair.phantom.cohort import subject_splits

    return [
        Subject(
            subject=label,
            split=split,
            mdme=(f"{root}/sub-{label}/dicom/mdme",),
            flair=f"{root}/sub-{label}/dicom/flair",
        )
        for label, split in subject_splits(n, test_fraction).items()
    ]


def check_input_path(path: str, where: str) -> None:
    """Refuse a path that Snakemake would read as holding a ``{wildcard}``."""
    match = _WILDCARD.search(path)
    if match:
        raise SynflairError(
            f"{where}: {path!r} contains {match.group()!r}, which Snakemake reads as a wildcard; "
            "expected a path without '{name}' (rename the folder or file)"
        )


def check_config_references(config: dict, subjects) -> None:
    """Check that the config's files exist and its subject names are in the cohort.

    Parameters
    ----------
    config : dict
        The workflow configuration (already valid against its schema).
    subjects : iterable of str
        The cohort's subject labels (without ``sub-``).

    Raises
    ------
    SynflairError
        Naming the config key: ``training.preset`` missing (when training),
        ``model`` missing or unreadable (when applying a model), a
        ``lesions.override`` entry naming no subject or a missing file,
        ``report.representative`` naming no subject.
    """
    subjects = set(subjects)
    if config.get("model"):
        check_model_reference(config["model"])
    else:
        preset = config["training"]["preset"]
        check_input_path(preset, "config key 'training.preset'")
        if not Path(preset).is_file():
            raise SynflairError(
                f"config key 'training.preset': {preset} does not exist (expected a training YAML)"
            )
    for label, path in config["lesions"]["override"].items():
        key = f"config key 'lesions.override.{label}'"
        if label.removeprefix("sub-") not in subjects:
            raise SynflairError(f"{key}: no such subject; expected one of {sorted(subjects)}")
        check_input_path(path, key)
        if not Path(path).is_file():
            raise SynflairError(f"{key}: {path} does not exist (expected a NIfTI lesion mask)")
    representative = config["report"]["representative"]
    for label in [representative] if isinstance(representative, str) else representative or []:
        if label.removeprefix("sub-") not in subjects:
            raise SynflairError(
                f"config key 'report.representative': no subject {label!r}; "
                f"expected one of {sorted(subjects)}"
            )


def check_model_reference(path: str) -> None:
    """Refuse a config key ``model`` that is not a readable torch archive, naming the key.

    A cheap check when the workflow starts (no torch import); the inference job
    reads the file fully (:func:`synflair.models.modelfile.load_model`).
    """
    key = "config key 'model'"
    expected = "expected a model.pt written by synflair train, e.g. results/train/stage-2/model.pt"
    check_input_path(path, key)
    if Path(path).is_dir():
        raise SynflairError(f"{key}: {path} is a folder ({expected})")
    if not Path(path).is_file():
        raise SynflairError(f"{key}: {path} does not exist ({expected})")
    try:
        with open(path, "rb") as stream:
            stream.read(4)
    except OSError as error:
        raise SynflairError(f"{key}: {path} is not readable ({error.strerror})") from error
    if not zipfile.is_zipfile(path):
        raise SynflairError(f"{key}: {path} is not a torch archive ({expected})")


def _existing(base: Path, value: str, where: str, column: str, *, directory: bool) -> str:
    check_input_path(value.strip(), f"{where}: column '{column}'")
    candidate = Path(value.strip())
    if not candidate.is_absolute():
        candidate = base / candidate
    ok = candidate.is_dir() if directory else candidate.is_file()
    if not ok:
        kind = "folder" if directory else "file"
        raise SynflairError(f"{where}: column '{column}': {kind} {candidate} does not exist")
    return str(candidate)


def _existing_dir(base: Path, value: str, where: str, column: str) -> str:
    return _existing(base, value, where, column, directory=True)
