"""Keep patient and site identifiers, dates and times out of everything after the DICOM stage.

docs/design.md ("Privacy"): no patient identifier (name, ID, birth date, accession,
institution) may appear in a NIfTI header (``descrip``, ``aux_file``,
``db_name``, extensions) or a JSON sidecar. The converters

1. write NIfTI only through :func:`synflair.nifti.save`, which starts from a
   fresh header and clears ``descrip`` and the extensions;
2. scrub every sidecar with :func:`scrub_sidecar`: dcm2niix's ``-ba y``
   anonymization keeps e.g. ``InstitutionName``, ``StationName``,
   ``DeviceSerialNumber`` and ``AcquisitionTime``, which the basic profile of
   DICOM PS3.15 (Annex E, Table E.1-1) removes;
3. check what they are about to publish with :func:`check_no_identifiers`
   against the identifying values of the source DICOM (:func:`identifiers_of`):
   patient and site identifiers and the study/series/acquisition/content dates
   and times.

The check compares values, not bytes: an identifier is found where its words
(runs of letters, runs of digits) occur as consecutive whole words of a JSON
string value, or of the text of a NIfTI header and its extensions. JSON keys
and numbers are not searched, so PatientName "dicom" does not match the key
``ImageOrientationPatientDICOM``, nor PatientID "1958" a matrix size. Values
that anonymizers put in place of a name (:data:`PLACEHOLDERS`, e.g.
"anonymous", "dicom", "test") and values of fewer than
:data:`MIN_IDENTIFIER_LENGTH` letters and digits (e.g. "01") identify no one
and are not searched.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

from synflair.errors import SynflairError

__all__ = [
    "CLOCK_TIME_SIDECAR_KEYS",
    "DATE_TIME_ATTRIBUTES",
    "EQUIPMENT_ATTRIBUTES",
    "IDENTIFYING_ATTRIBUTES",
    "IDENTIFYING_SIDECAR_KEYS",
    "MIN_IDENTIFIER_LENGTH",
    "PLACEHOLDERS",
    "check_no_identifiers",
    "find_identifiers",
    "find_in_text",
    "identifiers_of",
    "scrub_sidecar",
]

#: DICOM attributes whose values are the identifiers we guarantee to remove:
#: the patient's, and the site's (PS3.15 basic profile: X, Z or D).
IDENTIFYING_ATTRIBUTES = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "OtherPatientIDs",
    "AccessionNumber",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "StationName",
    "DeviceSerialNumber",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
)

#: Dates and times of the study that PS3.15's basic profile removes; their
#: values must not appear in any output either (in DICOM or dcm2niix form).
DATE_TIME_ATTRIBUTES = (
    "StudyDate",
    "SeriesDate",
    "AcquisitionDate",
    "ContentDate",
    "InstanceCreationDate",
    "StudyTime",
    "SeriesTime",
    "AcquisitionTime",
    "ContentTime",
    "InstanceCreationTime",
    "AcquisitionDateTime",
)

#: Equipment attributes kept in the sidecars; an identifier that one of them also
#: holds (StationName "MR750", ManufacturerModelName "DISCOVERY MR750") is not searched.
EQUIPMENT_ATTRIBUTES = (
    "Manufacturer",
    "ManufacturerModelName",
    "SoftwareVersions",
    "SequenceName",
    "BodyPartExamined",
)

#: Sidecar keys removed by :func:`scrub_sidecar`, besides every key starting
#: with ``Patient``, every key containing ``Date`` and :data:`CLOCK_TIME_SIDECAR_KEYS`
#: (PS3.15 Table E.1-1, basic profile; descriptions are removed because they are
#: free text that may name the patient or site).
IDENTIFYING_SIDECAR_KEYS = frozenset(
    {
        "AccessionNumber",
        "InstitutionName",
        "InstitutionAddress",
        "InstitutionalDepartmentName",
        "ReferringPhysicianName",
        "PerformingPhysicianName",
        "OperatorsName",
        "StationName",
        "DeviceSerialNumber",
        "ProtocolName",
        "SeriesDescription",
        "StudyDescription",
        "ImageComments",
        "PerformedProcedureStepDescription",
        "ProcedureStepDescription",
        "RequestedProcedureDescription",
        "StudyID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "FrameOfReferenceUID",
        "SOPInstanceUID",
        "OtherPatientIDs",
    }
)

#: Sidecar keys holding a time of day (dcm2niix writes ``"14:23:45.120000"``);
#: durations such as EchoTime or RepetitionTime are kept.
CLOCK_TIME_SIDECAR_KEYS = frozenset(
    {
        "AcquisitionTime",
        "StudyTime",
        "SeriesTime",
        "ContentTime",
        "InstanceCreationTime",
        "PerformedProcedureStepStartTime",
        "PerformedProcedureStepEndTime",
        "TimeOfLastCalibration",
    }
)

#: Identifiers shorter than this (letters and digits) are not searched for: a
#: one- to three-character PatientID ("01") identifies no one and would match
#: unrelated values.
MIN_IDENTIFIER_LENGTH = 4

#: Values anonymizers put in place of a name or ID; they identify no one.
PLACEHOLDERS = frozenset(
    {
        "anon",
        "anonymous",
        "anonymized",
        "anonymised",
        "dicom",
        "test",
        "unknown",
        "none",
        "patient",
        "subject",
        "phantom",
        "removed",
        "deidentified",
        "xxxx",
    }
)

_WORDS = re.compile(r"[^\W\d_]+|\d+")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def _words(text: str) -> tuple[str, ...]:
    """Runs of letters and runs of digits, lower case: the unit of comparison."""
    return tuple(_WORDS.findall(text.lower()))


def _is_identifying_key(key: str, value) -> bool:
    if key in IDENTIFYING_SIDECAR_KEYS or key in CLOCK_TIME_SIDECAR_KEYS:
        return True
    if key.startswith("Patient") or "Date" in key:
        return True
    return isinstance(value, str) and bool(_CLOCK.match(value.strip()))


def scrub_sidecar(meta: Mapping) -> dict:
    """A copy of the sidecar ``meta`` without identifying keys.

    Removes :data:`IDENTIFYING_SIDECAR_KEYS`, :data:`CLOCK_TIME_SIDECAR_KEYS`,
    keys starting with ``Patient`` (name, ID, birth date, sex, age, weight),
    keys containing ``Date`` and any key whose value is a time of day
    (``"HH:MM:SS"``).
    """
    if not isinstance(meta, Mapping):
        raise ValueError(f"meta must be a mapping (a JSON object), not {type(meta).__name__}")
    return {key: value for key, value in meta.items() if not _is_identifying_key(str(key), value)}


def _date_forms(value: str) -> set[str]:
    """A DICOM DA/TM/DT value and the forms dcm2niix writes it in."""
    value = value.strip()
    forms = {value}
    digits = value.split(".")[0]
    if len(digits) >= 8 and digits[:8].isdigit() and len(digits) != 6:  # DA or DT
        date, rest = digits[:8], digits[8:]
        forms |= {date, f"{date[:4]}-{date[4:6]}-{date[6:8]}"}
        if len(rest) >= 4:
            forms.add(":".join(rest[i : i + 2] for i in range(0, len(rest[:6]), 2)))
    elif len(digits) in (4, 6) and digits.isdigit():  # TM: HHMM or HHMMSS
        forms.add(":".join(digits[i : i + 2] for i in range(0, len(digits), 2)))
    return forms


def identifiers_of(dataset) -> set[str]:
    """The identifying strings of a pydicom dataset that must not leak.

    Returns the non-empty values of :data:`IDENTIFYING_ATTRIBUTES` (each item of
    a multi-valued one), each component of a person name (family, given, ...
    separated by ``^``) and the name with ``^`` replaced by a space; and the
    values of :data:`DATE_TIME_ATTRIBUTES` in DICOM form and as dcm2niix writes
    them (``2024-01-31``, ``14:23:45``). Values of fewer than
    :data:`MIN_IDENTIFIER_LENGTH` letters and digits, :data:`PLACEHOLDERS` and
    values that the published :data:`EQUIPMENT_ATTRIBUTES` also hold are left
    out.
    """
    found = set()
    for keyword in IDENTIFYING_ATTRIBUTES:
        item = dataset.get(keyword, "")
        values = list(item) if isinstance(item, list | tuple) or hasattr(item, "append") else [item]
        for value in values:
            value = str(value or "").strip()
            if not value:
                continue
            found.add(value)
            if "^" in value or keyword.endswith("Name"):
                found.update(part.strip() for part in value.split("^"))
                found.add(" ".join(part for part in value.split("^") if part).strip())
    for keyword in ("PatientBirthDate", *DATE_TIME_ATTRIBUTES):
        value = str(dataset.get(keyword, "") or "").strip()
        if value:
            found |= _date_forms(value)
    found = {value for value in found if _searchable(value)}
    # a StationName such as "MR750" that the published ManufacturerModelName
    # "DISCOVERY MR750" also holds identifies nothing the outputs do not say anyway
    published = [str(dataset.get(keyword, "") or "") for keyword in EQUIPMENT_ATTRIBUTES]
    return found - set(find_in_text(published, found))


def _searchable(identifier: str) -> bool:
    words = _words(identifier)
    return sum(map(len, words)) >= MIN_IDENTIFIER_LENGTH and " ".join(words) not in PLACEHOLDERS


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _strings(value) -> Iterable[str]:
    """The string values of a parsed JSON document (keys and numbers left out)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def find_in_text(texts: Iterable[str], identifiers: Iterable[str]) -> list[str]:
    """The ``identifiers`` whose words occur as consecutive whole words of one of ``texts``."""
    wanted = {i: _words(i) for i in identifiers if _searchable(i)}
    found = set()
    for text in texts:
        words = _words(text)
        found |= {i for i, needle in wanted.items() if _contains(words, needle)}
    return sorted(found)


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data


def _texts(path: Path, *, header_only: bool) -> list[str]:
    data = _read_bytes(path)
    if path.name.endswith((".nii", ".nii.gz")) and header_only:
        vox_offset = int(struct.unpack("<f", data[108:112])[0])  # NIfTI-1 vox_offset
        data = data[: max(vox_offset, 348)]
    if path.suffix == ".json":
        try:
            return list(_strings(json.loads(data.decode("utf-8"))))
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass
    return [data.decode("utf-8", errors="replace")]


def find_identifiers(
    path: str | os.PathLike, identifiers: Iterable[str], *, header_only: bool = False
) -> list[str]:
    """The ``identifiers`` that occur in ``path`` (gunzipped if ``.gz``).

    A JSON file is compared value by value (its string values; not its keys or
    numbers); any other file as text, case-insensitively, word by word (see the
    module doc). With ``header_only``, a NIfTI file is searched in its header
    and extensions only (the bytes before ``vox_offset``), not its voxels.
    """
    return find_in_text(_texts(Path(path), header_only=header_only), identifiers)


def check_no_identifiers(
    paths: Iterable[str | os.PathLike], identifiers: Iterable[str], *, header_only: bool = False
) -> None:
    """Raise :class:`SynflairError` if any identifier occurs in any of ``paths``.

    Parameters
    ----------
    paths : iterable of path-like
        Files to check (NIfTI, JSON, ...).
    identifiers : iterable of str
        Typically :func:`identifiers_of` of the source DICOM.
    header_only : bool
        For NIfTI files, search only the header and extensions (the bytes
        before ``vox_offset``), not the voxel data.

    Notes
    -----
    The message names the file and how many identifying values were found,
    never the values themselves (so that logs stay clean).
    """
    identifiers = list(identifiers)
    for path in map(Path, paths):
        hits = find_identifiers(path, identifiers, header_only=header_only)
        if hits:
            raise SynflairError(
                f"{path}: {len(hits)} patient or site identifier(s), date(s) or time(s) from the "
                "source DICOM found in the output; expected none (refusing to publish it)"
            )
