"""Keep patient identifiers out of everything after the DICOM stage.

DESIGN.md ("Privacy"): no patient identifier (name, ID, birth date, accession,
institution) may appear in a NIfTI header (``descrip``, ``aux_file``,
``db_name``, extensions) or a JSON sidecar. The converters

1. write NIfTI only through :func:`synflair.nifti.save`, which starts from a
   fresh header and clears ``descrip`` and the extensions;
2. scrub every sidecar with :func:`scrub_sidecar` (dcm2niix's ``-ba y``
   anonymization keeps e.g. ``InstitutionName``);
3. check the bytes they are about to publish with :func:`check_no_identifiers`
   against the identifiers read from the source DICOM (:func:`identifiers_of`).
"""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

from synflair.errors import SynflairError

__all__ = [
    "IDENTIFYING_ATTRIBUTES",
    "IDENTIFYING_SIDECAR_KEYS",
    "MIN_IDENTIFIER_LENGTH",
    "check_no_identifiers",
    "find_identifiers",
    "identifiers_of",
    "scrub_sidecar",
]

#: DICOM attributes whose values are the identifiers we guarantee to remove.
IDENTIFYING_ATTRIBUTES = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "AccessionNumber",
    "InstitutionName",
)

#: Sidecar keys removed by :func:`scrub_sidecar`, besides every key starting
#: with ``Patient`` and every key containing ``Date`` (acquisition dates).
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
        "StudyID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "FrameOfReferenceUID",
        "SOPInstanceUID",
        "OtherPatientIDs",
    }
)

#: Identifiers shorter than this are not searched for by the guard: a one- or
#: two-character PatientID would match unrelated bytes of any file.
MIN_IDENTIFIER_LENGTH = 4


def _is_identifying_key(key: str) -> bool:
    return key in IDENTIFYING_SIDECAR_KEYS or key.startswith("Patient") or "Date" in key


def scrub_sidecar(meta: Mapping) -> dict:
    """A copy of the sidecar ``meta`` without identifying keys.

    Removes :data:`IDENTIFYING_SIDECAR_KEYS`, keys starting with ``Patient``
    (name, ID, birth date, sex, age, weight) and keys containing ``Date``.
    """
    if not isinstance(meta, Mapping):
        raise ValueError(f"meta must be a mapping (a JSON object), not {type(meta).__name__}")
    return {key: value for key, value in meta.items() if not _is_identifying_key(str(key))}


def identifiers_of(dataset) -> set[str]:
    """The identifier strings of a pydicom dataset that must not leak.

    Returns the non-empty values of :data:`IDENTIFYING_ATTRIBUTES`, plus each
    component of PatientName (family, given, ... separated by ``^``) and the
    name with ``^`` replaced by a space, each at least
    :data:`MIN_IDENTIFIER_LENGTH` characters long.
    """
    found = set()
    for keyword in IDENTIFYING_ATTRIBUTES:
        value = str(dataset.get(keyword, "") or "").strip()
        if not value:
            continue
        found.add(value)
        if keyword == "PatientName":
            found.update(part.strip() for part in value.split("^"))
            found.add(" ".join(part for part in value.split("^") if part).strip())
    return {value for value in found if len(value) >= MIN_IDENTIFIER_LENGTH}


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data


def find_identifiers(path: str | os.PathLike, identifiers: Iterable[str]) -> list[str]:
    """The ``identifiers`` that occur in the bytes of ``path`` (gunzipped if ``.gz``).

    Matching is case-insensitive on the ASCII/UTF-8 bytes of the whole file.
    """
    data = _read_bytes(Path(path)).lower()
    return sorted({i for i in identifiers if i and i.lower().encode("utf-8") in data})


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
    The message names the file and how many identifiers were found, never the
    identifiers themselves (so that logs stay clean).
    """
    identifiers = [i for i in identifiers if len(i) >= MIN_IDENTIFIER_LENGTH]
    for path in map(Path, paths):
        if header_only and path.name.endswith((".nii", ".nii.gz")):
            data = _read_bytes(path)
            vox_offset = int(struct.unpack("<f", data[108:112])[0])  # NIfTI-1 vox_offset
            blob = data[: max(vox_offset, 348)].lower()
            hits = [i for i in identifiers if i.lower().encode("utf-8") in blob]
        else:
            hits = find_identifiers(path, identifiers)
        if hits:
            raise SynflairError(
                f"{path}: {len(hits)} patient identifier(s) from the source DICOM found in the "
                "output; expected none (refusing to publish it)"
            )
