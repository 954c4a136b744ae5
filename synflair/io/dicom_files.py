"""Finding and opening the DICOM files of a folder, and telling which series they hold.

Both converters (:mod:`synflair.io.mdme_sort` and :mod:`synflair.io.dcm2niix`)
start here, so that a folder that is not what they expect gets the same clear
message:

* a path that does not exist, or is a file: named;
* no files at all, or no DICOM file among them: the folder is named, with the
  first files that are not DICOM;
* unreadable or truncated files (the header, or pixel data shorter than
  Rows x Columns x BitsAllocated says): each named, up to :data:`MAX_LISTED`;
* several series where one acquisition is expected: the series are listed with
  their number, description and file count (:func:`describe_series`).

Hidden files and folders (names starting with ``.``) and :data:`JUNK_NAMES`
are skipped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from synflair.errors import SynflairError

__all__ = [
    "JUNK_NAMES",
    "MAX_LISTED",
    "Series",
    "describe_series",
    "list_files",
    "read_datasets",
    "series_of",
]

#: File names skipped as known non-image junk (besides hidden files).
JUNK_NAMES = frozenset({"DICOMDIR", "Thumbs.db", "desktop.ini"})
#: At most this many bad files are named in one message.
MAX_LISTED = 5
_PIXEL_DATA = 0x7FE00010
_UNDEFINED_LENGTH = 0xFFFFFFFF
_NOT_DICOM = "not a DICOM file (no 'DICM' marker at byte 128)"
_NO_PIXELS = "unreadable or truncated DICOM file (it ends before the pixel data), or not an image"
_NOT_IMAGE = "a DICOM object without an image (no Rows, no PixelData: e.g. a report)"

log = logging.getLogger(__name__)


def list_files(dirs: Sequence[Path], *, what: str = "DICOM") -> list[Path]:
    """The files under ``dirs`` (recursively), sorted, without hidden files and junk.

    Raises
    ------
    SynflairError
        If a path does not exist or is not a folder, or if there are no files.
    """
    files = []
    for root in map(Path, dirs):
        if not root.exists():
            raise SynflairError(f"{root}: no such directory (expected a folder of {what} files)")
        if not root.is_dir():
            raise SynflairError(
                f"{root}: is a file, not a directory (expected a folder of {what} files)"
            )
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            if any(p.startswith(".") for p in parts) or path.name in JUNK_NAMES:
                continue
            if path.is_file():
                files.append(path)
    if not files:
        raise SynflairError(f"no files in {', '.join(map(str, dirs))}; expected {what} files")
    return files


def _pixel_bytes(ds: Dataset) -> int | None:
    """Bytes of uncompressed pixel data the header announces (None if compressed/unknown)."""
    meta = getattr(ds, "file_meta", None)
    syntax = getattr(meta, "TransferSyntaxUID", None)
    if syntax is None or syntax.is_compressed:
        return None
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        bits = int(ds.BitsAllocated)
        count = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1) or 1) * frames
    except (AttributeError, TypeError, ValueError):
        return None
    return math.ceil(count * bits / 8)


def _read_one(path: Path) -> tuple[Dataset | None, str | None]:
    """The dataset without its pixel values, or None and why it cannot be used.

    The pixel data are not read (``defer_size``): their length and where they
    start in the file say whether the file holds all of them.
    """
    try:
        ds = pydicom.dcmread(path, defer_size=256)
        size = path.stat().st_size
    except InvalidDicomError:
        size = path.stat().st_size
        if size < 132:
            return None, (
                f"not a DICOM file, or an unreadable or truncated one ({size} bytes; expected "
                "the 'DICM' marker at byte 128)"
            )
        return None, _NOT_DICOM
    except Exception as error:  # pydicom raises many types for damaged files
        return None, f"unreadable or truncated DICOM file ({type(error).__name__}: {error})"
    if _PIXEL_DATA not in ds:
        return None, (_NO_PIXELS if "Rows" in ds else _NOT_IMAGE)
    raw = ds.get_item(_PIXEL_DATA, keep_deferred=True)  # the raw element: value not read
    expected = _pixel_bytes(ds)
    if isinstance(raw, RawDataElement):
        length = raw.length
        defined = length != _UNDEFINED_LENGTH
        stored = min(length, size - raw.value_tell) if defined else None
    else:  # already converted: its value is in memory
        defined = raw.value is not None and not getattr(raw, "is_undefined_length", False)
        length = stored = len(raw.value) if defined else None
    if defined and (stored < length or (expected is not None and stored < expected)):
        needed = max(length, expected or 0)
        return None, (
            f"unreadable or truncated DICOM file ({stored} bytes of pixel data; expected "
            f"{needed} for its Rows x Columns x BitsAllocated)"
        )
    del ds[_PIXEL_DATA]  # read again when needed; keeps memory to the headers
    return ds, None


def read_datasets(
    files: Iterable[Path], where: str, *, skip_non_images: bool = False
) -> list[tuple[Path, Dataset]]:
    """Open every file; refuse if any is unreadable or truncated.

    Files that are not DICOM at all (no ``DICM`` marker, e.g. a README or a PDF
    beside the series) are skipped with a warning naming them, as long as the
    folder holds DICOM files; damaged DICOM files are always refused.

    Parameters
    ----------
    files : iterable of path
    where : str
        The folder(s), for messages.
    skip_non_images : bool
        Also skip (with a warning) DICOM objects that hold no image at all (no
        Rows and no PixelData: structured reports, key-object selections,
        presentation states of a PACS export), instead of refusing them.

    Returns
    -------
    list of (path, pydicom.Dataset)
        Headers (pixel data checked for length, then dropped).

    Raises
    ------
    SynflairError
        Naming up to :data:`MAX_LISTED` bad files and why each is bad.
    """
    read, bad, foreign = [], [], []
    for path in files:
        ds, why = _read_one(path)
        if ds is not None:
            read.append((path, ds))
        elif why == _NOT_IMAGE and skip_non_images:
            log.warning("%s: skipped %s: %s", where, path, why)
        elif why == _NOT_IMAGE:
            bad.append((path, _NO_PIXELS))
        elif why == _NOT_DICOM and path.stat().st_size >= 132:
            foreign.append((path, why))  # a README or report beside the series: skipped
        else:
            bad.append((path, why))
    if foreign and read:
        names = ", ".join(str(path) for path, _ in foreign[:MAX_LISTED])
        more = f" and {len(foreign) - MAX_LISTED} more" if len(foreign) > MAX_LISTED else ""
        log.warning(
            "%s: skipped %d file(s) that are not DICOM: %s%s", where, len(foreign), names, more
        )
    elif foreign:
        bad.extend(foreign)
    if bad:
        listed = "; ".join(f"{path}: {why}" for path, why in bad[:MAX_LISTED])
        more = f" and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
        if not read:
            raise SynflairError(
                f"{where}: no readable DICOM file among {len(bad)} file(s) ({listed}{more})"
            )
        raise SynflairError(
            f"{where}: {len(bad)} of {len(bad) + len(read)} files cannot be used ({listed}{more}); "
            "expected only readable DICOM files of the acquisition"
        )
    return read


@dataclass(frozen=True)
class Series:
    """One series of a folder: its UID, number, description and files."""

    uid: str
    number: str
    description: str
    files: tuple[Path, ...]

    def __str__(self) -> str:
        return (
            f"series {self.number or '?'} {self.description!r} ({len(self.files)} files, "
            f"e.g. {self.files[0]})"
        )


def series_of(datasets: Iterable[tuple[Path, Dataset]]) -> list[Series]:
    """The series of ``datasets`` by SeriesInstanceUID, in order of first appearance."""
    groups: dict[str, list] = {}
    for path, ds in datasets:
        groups.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((path, ds))
    result = []
    for uid, members in groups.items():
        first = members[0][1]
        result.append(
            Series(
                uid=uid,
                number=str(first.get("SeriesNumber", "") or ""),
                description=str(first.get("SeriesDescription", "") or ""),
                files=tuple(path for path, _ in members),
            )
        )
    return result


def describe_series(series: Sequence[Series]) -> str:
    """``"these are 2 series: series 1 'MDME' (48 files, ...); series 2 ..."``."""
    shown = "; ".join(map(str, series[:10]))
    more = f"; and {len(series) - 10} more" if len(series) > 10 else ""
    return f"these are {len(series)} series: {shown}{more}"
