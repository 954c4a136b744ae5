"""Find the MDME raw series and the conventional FLAIR in a study folder.

PACS and scanner exports put every series of an exam in one folder (often in
sub-folders): the MDME raw series, SyMRI's quantitative maps and synthetic
contrasts, the conventional FLAIR, localizers, reports. :func:`find_series`
reads every header (no pixels), groups the files by SeriesInstanceUID and
classifies each series, first match wins:

1. **enhanced**: a multi-frame object (Enhanced MR Image Storage,
   PerFrameFunctionalGroupsSequence, NumberOfFrames > 1): skipped; the MDME
   importer reads classic single-frame images (:mod:`synflair.io.dicom_formats`).
2. **derived**: ImageType starts with ``DERIVED`` (SyMRI/MAGiC maps and
   synthetic T1w/T2w/FLAIR, reformats): skipped.
3. **localizer**: ImageType holds ``LOCALIZER``, or SeriesDescription reads
   like one (localizer, scout, survey, 3-plane): skipped.
4. **MDME**: 2 distinct EchoTimes x 4 distinct saturation delays (TriggerTime,
   else InversionTime, or the configured ``delay_attribute``) and every file's
   complex component known from GE's private (0043,102F) or ImageType, i.e.
   8 images per slice per component (16 with real + imaginary or magnitude +
   phase). :mod:`synflair.io.mdme_sort` then checks the full grid.
5. **FLAIR**: one InversionTime of at least :data:`MIN_FLAIR_TI_MS` (a T2 FLAIR
   nulls CSF at TI ~1700-2800 ms); or, without InversionTime, a
   SeriesDescription/ProtocolName naming FLAIR (not T1 FLAIR) or ScanningSequence
   IR. A shorter InversionTime is a T1-weighted IR or STIR: skipped. So is a
   series described as synthetic (SyMRI, MAGiC, "synthetic") that is not marked
   DERIVED.
6. anything else: skipped, with why.

:func:`choose` picks the one series of a role. None, or two candidates, stop
with the whole table and the way to choose: the sheet columns ``mdme_series`` /
``flair_series`` (the CLI's ``--series``), holding a SeriesInstanceUID or
SeriesNumber.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from synflair.errors import SynflairError
from synflair.io.dicom_files import Series, list_files, read_datasets, series_of
from synflair.io.dicom_formats import enhanced_reason
from synflair.io.dicom_write import GE_PRIVATE_CREATOR
from synflair.io.mdme_sort import DEFAULT_DELAY_ATTRIBUTES, _component, parse_delay_attribute

__all__ = [
    "MIN_FLAIR_TI_MS",
    "ROLES",
    "Study",
    "Verdict",
    "choose",
    "find_series",
]

log = logging.getLogger(__name__)

#: Shortest InversionTime (ms) of a T2 FLAIR; shorter is T1-weighted IR or STIR.
MIN_FLAIR_TI_MS = 1500.0
#: The roles a series can have; every other series is skipped.
ROLES = ("mdme", "flair")
#: The sheet column (and CLI option) that chooses the series of each role.
CHOICE_COLUMNS = {"mdme": "mdme_series", "flair": "flair_series"}
_LOCALIZER = re.compile(r"locali[sz]er|\bloc\b|scout|survey|3[- ]?plane|tri[- ]?pilot", re.I)
_FLAIR = re.compile(r"flair", re.I)
_T1 = re.compile(r"\bt1", re.I)
_SYNTHETIC = re.compile(r"symri|synthetic|magic|\bsyn\b", re.I)
_MDME_TES, _MDME_DELAYS = 2, 4


@dataclass(frozen=True)
class Verdict:
    """What one series of a study folder is.

    Attributes
    ----------
    series : Series
        UID, number, description and files.
    role : str
        ``"mdme"``, ``"flair"`` or ``"skipped"``.
    reason : str
        The evidence for the role, or why the series is skipped.
    """

    series: Series
    role: str
    reason: str


@dataclass(frozen=True)
class Study:
    """The classified series of one study folder.

    Attributes
    ----------
    directory : pathlib.Path
    verdicts : tuple of Verdict
        In order of SeriesNumber.
    """

    directory: Path
    verdicts: tuple[Verdict, ...]

    def candidates(self, role: str) -> list[Verdict]:
        """The series classified as ``role``."""
        return [v for v in self.verdicts if v.role == role]

    def table(self) -> str:
        """One line per series: number, files, role, description, reason, UID."""
        rows = [("series", "files", "role", "description", "why", "SeriesInstanceUID")]
        for v in self.verdicts:
            s = v.series
            rows.append(
                (s.number or "?", str(len(s.files)), v.role, s.description, v.reason, s.uid)
            )
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[5]
            for row in rows
        )

    def summary(self) -> str:
        """The table on one line (for error messages): ``series N 'desc' (k files): role (why)``."""
        return "; ".join(
            f"series {v.series.number or '?'} {v.series.description!r} "
            f"({len(v.series.files)} files, UID {v.series.uid}): {v.role} ({v.reason})"
            for v in self.verdicts
        )


def _values(datasets: Sequence[Dataset], keyword) -> list:
    found = []
    for ds in datasets:
        element = ds.get(keyword)
        value = getattr(element, "value", element)
        if value is None or value == "" or value == b"":
            found.append(None)
            continue
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace").strip("\x00 ")
        try:
            found.append(round(float(value), 3))
        except (TypeError, ValueError):
            found.append(None)
    return found


def _mdme_evidence(series: Series, datasets, delay_keys) -> str | None:
    """The MDME grid of a series (``"2 TE x 4 TriggerTime ..."``), or None."""
    tes = _values(datasets, "EchoTime")
    if None in tes or len(set(tes)) != _MDME_TES:
        return None
    for key in delay_keys:
        delays = _values(datasets, key)
        if None not in delays and len(set(delays)) == _MDME_DELAYS:
            break
    else:
        return None
    components = []
    for path, ds in zip(series.files, datasets, strict=True):
        try:
            components.append(_component(ds, path))
        except SynflairError:
            return None
    order = ("real", "imaginary", "magnitude", "phase")
    kinds = sorted(set(components), key=order.index)
    source = "GE (0043,102F)" if all(_has_ge_component(ds) for ds in datasets) else "ImageType"
    per_slice = len(series.files) / max(1, len(set(map(_position_key, datasets))))
    name = key if isinstance(key, str) else f"({key.group:04X},{key.element:04X})"
    return (
        f"MDME: {_MDME_TES} EchoTime x {_MDME_DELAYS} {name} x {'+'.join(kinds)} "
        f"(component from {source}), {per_slice:g} images per slice"
    )


def _has_ge_component(ds: Dataset) -> bool:
    try:
        ds.get_private_item(0x0043, 0x2F, GE_PRIVATE_CREATOR)
    except KeyError:
        return False
    return True


def _position_key(ds: Dataset):
    position = ds.get("ImagePositionPatient")
    return tuple(round(float(v), 2) for v in position) if position else None


def _flair_evidence(datasets) -> tuple[str | None, str | None]:
    """(evidence, None) for a FLAIR, else (None, why not)."""
    first = datasets[0]
    text = f"{first.get('SeriesDescription', '') or ''} {first.get('ProtocolName', '') or ''}"
    raw = first.get("ScanningSequence", "")
    sequence = [str(s).upper() for s in raw] if isinstance(raw, MultiValue) else [str(raw).upper()]
    if _SYNTHETIC.search(text):
        return (
            None,
            f"described as a synthetic contrast ({text.strip()!r}): not the conventional FLAIR",
        )
    inversion = {t for t in _values(datasets, "InversionTime") if t is not None}
    if inversion:
        if len(inversion) > 1:
            return None, f"{len(inversion)} different InversionTimes: not one FLAIR volume"
        ti = inversion.pop()
        if ti >= MIN_FLAIR_TI_MS:
            return f"FLAIR: InversionTime {ti:g} ms", None
        return None, (
            f"inversion recovery with InversionTime {ti:g} ms: T1-weighted IR or STIR, not a "
            f"T2 FLAIR (InversionTime >= {MIN_FLAIR_TI_MS:g} ms)"
        )
    if _FLAIR.search(text) and not _T1.search(text):
        return f"FLAIR: description {text.strip()!r} (no InversionTime)", None
    if "IR" in sequence:
        return "FLAIR: ScanningSequence IR (no InversionTime)", None
    return None, "no inversion (InversionTime, ScanningSequence IR) and not described as FLAIR"


def _classify(series: Series, datasets: list[Dataset], delay_keys) -> Verdict:
    first = datasets[0]
    for ds in datasets:
        reason = enhanced_reason(ds)
        if reason is not None:
            return Verdict(series, "skipped", f"{reason}; export classic single-frame images")
    image_type = [str(v).upper() for v in first.get("ImageType", [])]
    if image_type and image_type[0] == "DERIVED":
        return Verdict(
            series,
            "skipped",
            f"DERIVED image (ImageType {chr(92).join(image_type)}): a map, synthetic contrast "
            "or reformat",
        )
    description = f"{first.get('SeriesDescription', '') or ''}"
    if "LOCALIZER" in image_type or _LOCALIZER.search(description):
        return Verdict(series, "skipped", "localizer")
    evidence = _mdme_evidence(series, datasets, delay_keys)
    if evidence is not None:
        return Verdict(series, "mdme", evidence)
    evidence, why_not = _flair_evidence(datasets)
    if evidence is not None:
        return Verdict(series, "flair", evidence)
    return Verdict(series, "skipped", why_not)


def _number_key(verdict: Verdict):
    number = verdict.series.number
    return (0, int(number), "") if number.isdigit() else (1, 0, number)


def find_series(study_dir, delay_attribute: str | None = None) -> Study:
    """Read the headers under ``study_dir`` and classify every series (see the module doc).

    Parameters
    ----------
    study_dir : path-like
        The study folder (searched recursively).
    delay_attribute : str, optional
        DICOM keyword or ``"gggg,eeee"`` tag of the MDME saturation delay;
        default TriggerTime, else InversionTime.

    Returns
    -------
    Study

    Raises
    ------
    SynflairError
        For a missing or empty folder, or unreadable or truncated DICOM files
        (named). DICOM objects without an image (reports) and files that are
        not DICOM are skipped with a warning.
    """
    directory = Path(study_dir)
    where = str(directory)
    keys = (
        DEFAULT_DELAY_ATTRIBUTES
        if delay_attribute is None
        else (parse_delay_attribute(delay_attribute),)
    )
    datasets = read_datasets(list_files([directory]), where, skip_non_images=True)
    by_path = dict(datasets)
    verdicts = [
        _classify(series, [by_path[path] for path in series.files], keys)
        for series in series_of(datasets)
    ]
    study = Study(directory, tuple(sorted(verdicts, key=_number_key)))
    log.info("%s: %d series\n%s", where, len(study.verdicts), study.table())
    return study


def choose(study: Study, role: str, choice: str | None = None) -> Series:
    """The one series of ``role`` (``"mdme"`` or ``"flair"``) in ``study``.

    Parameters
    ----------
    study : Study
    role : {"mdme", "flair"}
    choice : str, optional
        A SeriesInstanceUID or SeriesNumber that picks the series (any series
        of the study, whatever its verdict).

    Returns
    -------
    Series

    Raises
    ------
    SynflairError
        With the table of series: no candidate, several, or a ``choice`` that
        matches no series or several.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    column = CHOICE_COLUMNS[role]
    what = "MDME raw series" if role == "mdme" else "conventional FLAIR series"
    how = (
        f"choose one with the sheet column '{column}' (or --series) holding its "
        "SeriesInstanceUID or SeriesNumber"
    )
    if choice is not None:
        return _chosen(study, role, str(choice).strip(), what)
    candidates = study.candidates(role)
    if len(candidates) == 1:
        series = candidates[0].series
        log.info(
            "%s: %s: series %s %r (%d files; %s)",
            study.directory,
            what,
            series.number,
            series.description,
            len(series.files),
            candidates[0].reason,
        )
        return series
    if not candidates:
        raise SynflairError(
            f"{study.directory}: no {what} found among {len(study.verdicts)} series; {how}, "
            f"or give the series' own folder. The series: {study.summary()}"
        )
    numbers = ", ".join(v.series.number or v.series.uid for v in candidates)
    raise SynflairError(
        f"{study.directory}: {len(candidates)} series look like the {what} (series "
        f"{numbers}); {how}. The series: {study.summary()}"
    )


def _chosen(study: Study, role: str, choice: str, what: str) -> Series:
    """The one series ``choice`` (a SeriesInstanceUID or SeriesNumber) names, whatever its
    verdict; a warning when it was classified as something else."""
    column = CHOICE_COLUMNS[role]
    matches = [v for v in study.verdicts if choice in (v.series.uid, v.series.number)]
    if len(matches) != 1:
        found = "no series" if not matches else f"{len(matches)} series"
        raise SynflairError(
            f"{study.directory}: {column} {choice!r} matches {found}; expected the "
            f"SeriesInstanceUID or SeriesNumber of one series (a SeriesNumber that several "
            f"series share needs the UID). The series: {study.summary()}"
        )
    chosen = matches[0]
    if chosen.role == role:
        log.info(
            "%s: %s: series %s %r (%d files), chosen by %s %r",
            study.directory,
            what,
            chosen.series.number,
            chosen.series.description,
            len(chosen.series.files),
            column,
            choice,
        )
    else:
        log.warning(
            "%s: using series %s %r as the %s (chosen by %s), although it was classified as %s: %s",
            study.directory,
            chosen.series.number,
            chosen.series.description,
            what,
            column,
            chosen.role,
            chosen.reason,
        )
    return chosen.series
