"""The subjects a workflow run processes: the phantom cohort or a user's subject sheet.

A subject sheet is a tab-separated table with the columns of
``workflow/schemas/subjects.schema.yaml``: ``subject``, ``mdme`` (MDME DICOM
folder(s), ``;``-separated), ``flair`` (conventional FLAIR DICOM folder),
``split`` (``train`` or ``test``) and optional ``lesion_mask``,
``vendor_flair``, ``vendor_t1w``, ``vendor_mask``. Relative paths are relative
to the sheet's folder. :func:`read_sheet` checks what a JSON schema cannot:
unique subjects, folders that exist, and both splits present.

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
from dataclasses import dataclass, field
from pathlib import Path

from synflair.errors import SynflairError
from synflair.schema import check_against_schema

SHEET_COLUMNS = (
    "subject",
    "mdme",
    "flair",
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
        MDME DICOM folder(s).
    flair : str
        Conventional FLAIR DICOM folder.
    lesion_mask : str or None
        A lesion mask that overrides the automatic segmentation.
    vendor : dict
        Optional vendor series: keys among ``flair``, ``t1w``, ``mask``.
    """

    subject: str
    split: str
    mdme: tuple[str, ...]
    flair: str
    lesion_mask: str | None = None
    vendor: dict[str, str] = field(default_factory=dict)


def read_sheet(path: str | os.PathLike, schema: dict | None = None) -> list[Subject]:
    """Read and check a subject sheet.

    Parameters
    ----------
    path : path-like
        Tab-separated subject sheet.
    schema : dict, optional
        JSON schema of one row (``workflow/schemas/subjects.schema.yaml``); each
        row's non-empty cells are checked against it first
        (:func:`synflair.schema.check_against_schema`).

    Returns
    -------
    list of Subject
        Paths resolved against the sheet's folder.

    Raises
    ------
    SynflairError
        Naming the sheet, the row and the column of the first problem found.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise SynflairError(f"config key 'sheet': {path} does not exist (expected a TSV file)")
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    unknown = sorted(set(frame.columns) - set(SHEET_COLUMNS))
    if unknown:
        raise SynflairError(
            f"{path}: unknown column(s) {unknown}; expected columns among {list(SHEET_COLUMNS)}"
        )
    for column in ("subject", "mdme", "flair", "split"):
        if column not in frame.columns:
            raise SynflairError(f"{path}: missing required column '{column}'")
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
        split = row["split"].strip()
        if split not in ("train", "test"):
            raise SynflairError(f"{where}: split must be 'train' or 'test', not {split!r}")
        if label in seen:
            raise SynflairError(
                f"{where}: subject {label!r} appears twice (first as {seen[label]!r}); a subject "
                "must be in exactly one split, so a test subject cannot also be a training subject"
            )
        seen[label] = split
        mdme = tuple(
            _existing_dir(base, part, where, "mdme") for part in row["mdme"].split(";") if part
        )
        if not mdme:
            raise SynflairError(f"{where}: column 'mdme' is empty (expected a DICOM folder)")
        flair = _existing_dir(base, row["flair"], where, "flair")
        lesion = row.get("lesion_mask", "").strip() or None
        if lesion is not None:
            lesion = _existing(base, lesion, where, "lesion_mask", directory=False)
        vendor = {
            column.removeprefix("vendor_"): _existing_dir(base, row[column], where, column)
            for column in OPTIONAL_FOLDERS
            if row.get(column, "").strip()
        }
        subjects.append(Subject(label, split, mdme, flair, lesion, vendor))
    check_splits({s.subject: s.split for s in subjects}, str(path))
    return subjects


def check_splits(splits: dict[str, str], where: str) -> None:
    """Require at least one training and one test subject."""
    for needed in ("train", "test"):
        if needed not in splits.values():
            raise SynflairError(f"{where}: no '{needed}' subject; need at least one of each split")


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
        Naming the config key: ``training.preset`` missing, a ``lesions.override``
        entry naming no subject or a missing file, ``report.representative``
        naming no subject.
    """
    subjects = set(subjects)
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
