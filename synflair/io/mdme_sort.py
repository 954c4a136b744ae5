"""Sort MDME DICOM files into one image per (slice, TE, delay, component).

Every image is keyed on

* its slice: the projection of ImagePositionPatient on the slice normal;
* EchoTime;
* its saturation delay: ``delay_attribute`` (a DICOM keyword or a tag
  ``"gggg,eeee"``); by default TriggerTime, or else InversionTime: the first
  of them present in every image with at least two distinct values;
* its complex component: GE's private (0043,102F) in the "GEMS_PARM_01" block
  (0 magnitude, 1 phase, 2 real, 3 imaginary), else ImageType (REAL,
  IMAGINARY, MAGNITUDE, PHASE or, from the third value on, R, I, M, P).

Real + imaginary is used where present, else magnitude + phase, else magnitude
alone. Images of other components are ignored. The images may be in one
folder (one series) or spread over several folders and series (e.g. one
series per image); folders are searched recursively.

Files that are skipped as known junk: hidden files and folders (names
starting with ``.``) and ``DICOMDIR``, ``Thumbs.db``, ``desktop.ini``
(:data:`JUNK_NAMES`). Any other file that is not DICOM is an error naming it.

Anything that cannot be sorted into exactly one image per (slice, TE, delay,
component) is a :class:`~synflair.errors.SynflairError` that lists what was
found (counts per TE / delay / component / slice) and what was expected:
missing images (each named by its slice, TE, delay and component), duplicated
ones (both files named), mixed geometry or frames of reference (files named),
unequal slice spacing, non-DICOM, unreadable or truncated files (named), and
images of several series that are not one acquisition (the series listed).

Rescale (value = RescaleSlope x stored + RescaleIntercept) is checked per file:
both finite, the slope in :data:`SLOPE_RANGE` and the intercept within
:data:`MAX_INTERCEPT`; a file's rescale that is not finite or absurd is named
with the attribute. Within one series and complex component, GE, Siemens and
synflair's own writer store one rescale for every image (GE raw MDME usually
none at all, i.e. slope 1), so a file whose rescale differs is named; Philips
rescales each image, so there the slopes may differ but by at most a factor
:data:`MAX_SLOPE_SPREAD`. Every rescaled pixel must be finite.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.datadict import tag_for_keyword
from pydicom.tag import Tag

from synflair.errors import SynflairError
from synflair.geometry import slice_normal
from synflair.io.anonymize import identifiers_of
from synflair.io.dicom_files import (
    JUNK_NAMES,
    describe_series,
    list_files,
    read_datasets,
    series_of,
)
from synflair.io.dicom_formats import check_decodable, check_single_frame
from synflair.io.dicom_write import GE_PRIVATE_CREATOR

__all__ = [
    "DEFAULT_DELAY_ATTRIBUTES",
    "JUNK_NAMES",
    "MAX_INTERCEPT",
    "MAX_SLOPE_SPREAD",
    "SLOPE_RANGE",
    "ImageHeader",
    "SortGrid",
    "SortedMDME",
    "read_pixels",
    "sort_mdme",
]

log = logging.getLogger(__name__)

#: Plausible RescaleSlope: (smallest, largest) positive value. MR slopes are ~1e-5 (floats
#: quantized to 16 bits) to ~1e2; outside, the file is damaged or not MR.
SLOPE_RANGE = (1e-12, 1e6)
#: Largest plausible |RescaleIntercept| of MR images.
MAX_INTERCEPT = 1e6
#: Largest ratio of per-image slopes within one series and component (Philips).
MAX_SLOPE_SPREAD = 1e3
#: Saturation-delay attributes tried in turn when none is named.
DEFAULT_DELAY_ATTRIBUTES = ("TriggerTime", "InversionTime")
_CODES = {0: "magnitude", 1: "phase", 2: "real", 3: "imaginary"}
_WORDS = {"REAL": "real", "IMAGINARY": "imaginary", "MAGNITUDE": "magnitude", "PHASE": "phase"}
_LETTERS = {"R": "real", "I": "imaginary", "M": "magnitude", "P": "phase"}
_PAIRS = (("real", "imaginary"), ("magnitude", "phase"), ("magnitude",))
_TAG = re.compile(r"^\(?\s*([0-9a-fA-F]{4})\s*,\s*([0-9a-fA-F]{4})\s*\)?$")


@dataclass(frozen=True)
class ImageHeader:
    path: Path
    position: np.ndarray
    orientation: np.ndarray
    spacing: np.ndarray
    shape: tuple[int, int]
    te: float
    delays: dict
    component: str
    tr: float
    flip_angle: float
    thickness: float | None
    frame_uid: str
    series_uid: str = ""
    manufacturer: str = ""
    slope: float = 1.0
    intercept: float = 0.0


def parse_delay_attribute(name: str):
    match = _TAG.match(name)
    if match:
        return Tag(int(match.group(1), 16), int(match.group(2), 16))
    if tag_for_keyword(name) is not None:
        return name
    raise SynflairError(
        f"delay_attribute must be a DICOM keyword (e.g. TriggerTime) or a tag 'gggg,eeee', "
        f"not {name!r}"
    )


def _number(ds, key, path: Path) -> float | None:
    element = ds.get(key)
    value = getattr(element, "value", element) if element is not None else None
    if value is None or value == "" or value == b"":
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace").strip("\x00 ")
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise SynflairError(f"{path}: {key} = {value!r} is not a number") from error


def _component(ds, path: Path) -> str:
    try:
        code = ds.get_private_item(0x0043, 0x2F, GE_PRIVATE_CREATOR).value
    except KeyError:
        code = None
    if code is not None:
        if int(code) not in _CODES:
            raise SynflairError(
                f"{path}: GE (0043,102F) = {code!r}; expected 0 (magnitude), 1 (phase), "
                "2 (real) or 3 (imaginary)"
            )
        return _CODES[int(code)]
    image_type = [str(v).upper() for v in ds.get("ImageType", [])]
    shown = "\\".join(image_type)
    for index, word in enumerate(image_type):
        if word in _WORDS:
            return _WORDS[word]
        if index >= 2 and word in _LETTERS:
            return _LETTERS[word]
    raise SynflairError(
        f"{path}: cannot tell the complex component: no GE (0043,102F) and ImageType "
        f"{shown!r} has none of REAL, IMAGINARY, MAGNITUDE, PHASE"
    )


def _rescale(ds, path: Path) -> tuple[float, float]:
    slope = _number(ds, "RescaleSlope", path)
    intercept = _number(ds, "RescaleIntercept", path)
    slope = 1.0 if slope is None else slope
    intercept = 0.0 if intercept is None else intercept
    low, high = SLOPE_RANGE
    if not (np.isfinite(slope) and low <= slope <= high):
        raise SynflairError(
            f"{path}: RescaleSlope = {slope!r}; expected a finite positive slope in "
            f"[{low:g}, {high:g}] (value = RescaleSlope x stored + RescaleIntercept)"
        )
    if not (np.isfinite(intercept) and abs(intercept) <= MAX_INTERCEPT):
        raise SynflairError(
            f"{path}: RescaleIntercept = {intercept!r}; expected a finite intercept within "
            f"+-{MAX_INTERCEPT:g}"
        )
    return slope, intercept


def read_header(path: Path, ds, delay_keys) -> tuple[ImageHeader, set[str]]:
    """The sorting keys of one file's dataset ``ds`` (read by :mod:`synflair.io.dicom_files`).

    An enhanced multi-frame object, or pixel data compressed with a transfer
    syntax no installed plugin decodes, is refused here, before any pixel is read
    (:mod:`synflair.io.dicom_formats`).
    """
    check_single_frame(path, ds)
    check_decodable(path, ds)
    required = ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "Rows")
    required += ("Columns", "EchoTime", "RepetitionTime", "FlipAngle")
    for keyword in required:
        if ds.get(keyword) in (None, ""):
            raise SynflairError(
                f"{path}: missing DICOM attribute {keyword}; expected an MR image with geometry "
                "and timing"
            )
    slope, intercept = _rescale(ds, path)
    image = ImageHeader(
        path=path,
        position=np.array([float(v) for v in ds.ImagePositionPatient]),
        orientation=np.array([float(v) for v in ds.ImageOrientationPatient]),
        spacing=np.array([float(v) for v in ds.PixelSpacing]),
        shape=(int(ds.Rows), int(ds.Columns)),
        te=_number(ds, "EchoTime", path),
        delays={key: _number(ds, key, path) for key in delay_keys},
        component=_component(ds, path),
        tr=_number(ds, "RepetitionTime", path),
        flip_angle=_number(ds, "FlipAngle", path),
        thickness=_number(ds, "SliceThickness", path),
        frame_uid=str(ds.get("FrameOfReferenceUID", "")),
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        manufacturer=str(ds.get("Manufacturer", "") or ""),
        slope=slope,
        intercept=intercept,
    )
    return image, identifiers_of(ds)


def _signature(ds) -> tuple:
    """What every image of one MDME acquisition shares, whatever series it is filed in."""

    def value(keyword):
        item = ds.get(keyword)
        if item is None or item == "":
            return None
        items = item if isinstance(item, pydicom.multival.MultiValue) else [item]
        try:
            return tuple(round(float(v), 3) for v in items)
        except (TypeError, ValueError):
            return tuple(str(v) for v in items)

    keys = ("Rows", "Columns", "RepetitionTime", "FlipAngle", "ImageOrientationPatient")
    return (*(value(k) for k in keys), str(ds.get("ScanningSequence", "")))


def check_one_acquisition(datasets, where: str) -> None:
    """Refuse files of several series that differ in matrix, TR, flip angle or sequence.

    MDME images may be filed in several series (e.g. one per image); those
    series share all of these. A FLAIR or T1w series in the same folder does not.
    """
    series = series_of(datasets)
    if len(series) < 2:
        return
    signatures = {_signature(ds) for _, ds in datasets}
    if len(signatures) > 1:
        raise SynflairError(
            f"{where}: {describe_series(series)}; they differ in matrix, RepetitionTime, "
            "FlipAngle, orientation or ScanningSequence, so they are not one MDME acquisition; "
            "expected only the MDME images (give their folder(s) alone)"
        )


def check_rescale(images: list[ImageHeader]) -> None:
    """One rescale per series and component (per-image within a factor for Philips)."""
    groups: dict[tuple[str, str], list[ImageHeader]] = {}
    for image in images:
        groups.setdefault((image.series_uid, image.component), []).append(image)
    for (_, component), members in groups.items():
        first = members[0]
        if "philips" in first.manufacturer.lower():
            slopes = [m.slope for m in members]
            small = min(members, key=lambda m: m.slope)
            large = max(members, key=lambda m: m.slope)
            if max(slopes) / min(slopes) > MAX_SLOPE_SPREAD:
                raise SynflairError(
                    f"{large.path}: RescaleSlope = {large.slope!r} but {small.path} of the same "
                    f"series ({component}) has {small.slope!r}; expected per-image slopes within "
                    f"a factor {MAX_SLOPE_SPREAD:g}"
                )
            continue
        for image in members[1:]:
            for name in ("slope", "intercept"):
                if getattr(image, name) != getattr(first, name):
                    keyword = f"Rescale{name.capitalize()}"
                    raise SynflairError(
                        f"{image.path}: {keyword} = {getattr(image, name)!r} but "
                        f"{first.path} of the same series ({component} images) has "
                        f"{getattr(first, name)!r}; expected one {keyword} per series and "
                        "component"
                    )


def _cluster(values, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels (0..n-1, ascending) and centres of 1D ``values`` split at gaps > tolerance."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    labels = np.empty(len(values), dtype=int)
    label = 0
    for rank, index in enumerate(order):
        if rank and values[index] - values[order[rank - 1]] > tolerance:
            label += 1
        labels[index] = label
    centres = np.array([values[labels == n].mean() for n in range(label + 1)])
    return labels, centres


def check_geometry(images: list[ImageHeader]) -> None:
    first = images[0]
    for image in images[1:]:
        if (
            image.shape != first.shape
            or not np.allclose(image.orientation, first.orientation, atol=1e-4)
            or not np.allclose(image.spacing, first.spacing, atol=1e-4)
        ):
            raise SynflairError(
                f"mixed geometry: {first.path} has orientation {first.orientation.tolist()}, "
                f"pixel spacing {first.spacing.tolist()}, matrix {first.shape[0]}x"
                f"{first.shape[1]} but {image.path} has {image.orientation.tolist()}, "
                f"{image.spacing.tolist()}, {image.shape[0]}x{image.shape[1]}; expected one "
                "geometry for all MDME images"
            )
        if image.frame_uid != first.frame_uid:
            raise SynflairError(
                f"{first.path} and {image.path} have different FrameOfReferenceUIDs; expected "
                "the images of one MDME acquisition"
            )


def select_components(images: list[ImageHeader], where: str):
    found = Counter(image.component for image in images)
    for pair in _PAIRS:
        if all(c in found for c in pair):
            ignored = sum(n for c, n in found.items() if c not in pair)
            if ignored:
                log.info("ignoring %d images of components other than %s", ignored, pair)
            return pair, [image for image in images if image.component in pair]
    raise SynflairError(
        f"{where}: found components {dict(found)}; expected real+imaginary, magnitude+phase "
        "or magnitude images"
    )


def choose_delay(images: list[ImageHeader], requested) -> str:
    if requested is not None:
        key = requested
        for image in images:
            if image.delays[key] is None:
                raise SynflairError(
                    f"{image.path}: no {key} (the requested saturation-delay attribute)"
                )
        return key
    tried = []
    for key in DEFAULT_DELAY_ATTRIBUTES:
        values = [image.delays[key] for image in images]
        present = [v for v in values if v is not None]
        distinct = len({round(v, 3) for v in present})
        if len(present) == len(values) and distinct >= 2:
            return key
        tried.append(f"{key} (in {len(present)}/{len(values)} images, {distinct} distinct)")
    raise SynflairError(
        f"cannot find the saturation delay: tried {', '.join(tried)}; expected one of them in "
        "every image with at least 2 distinct values; name the attribute with delay_attribute"
    )


def _fmt(value: float) -> str:
    return f"{value:.6g}"


class SortGrid:
    """Slice / TE / delay / component labels of the images, and the error summary."""

    def __init__(self, images, components, delay_key, where):
        self.images, self.components, self.delay_key, self.where = (
            images,
            components,
            delay_key,
            where,
        )
        normal = slice_normal(images[0].orientation)
        self.projection = np.array([np.dot(image.position, normal) for image in images])
        self.slice, self.slices = _cluster(self.projection, 0.05)
        self.echo, self.tes = _cluster([image.te for image in images], 0.01)
        self.delay, self.tds = _cluster([image.delays[delay_key] for image in images], 0.01)

    def describe(self, key) -> str:
        s, e, d, c = key
        return (
            f"(slice {s + 1} at {_fmt(self.slices[s])} mm, TE {_fmt(self.tes[e])} ms, "
            f"{self.delay_key} {_fmt(self.tds[d])} ms, {self.components[c]})"
        )

    def summary(self) -> str:
        def counts(labels, centres, unit=""):
            tally = Counter(labels.tolist())
            return ", ".join(f"{_fmt(centres[n])}{unit}: {tally[n]}" for n in range(len(centres)))

        components = Counter(image.component for image in self.images)
        total = len(self.slices) * len(self.tes) * len(self.tds) * len(self.components)
        return (
            f"found {len(self.images)} images in {self.where}: TE (ms) "
            f"{{{counts(self.echo, self.tes)}}}; {self.delay_key} (ms) "
            f"{{{counts(self.delay, self.tds)}}}; component {dict(components)}; slice positions "
            f"(mm along the normal) {{{counts(self.slice, self.slices)}}}; expected each of "
            f"{len(self.slices)} slice(s) x {len(self.tes)} TE x {len(self.tds)} "
            f"{self.delay_key} x {len(self.components)} component(s) "
            f"({'+'.join(self.components)}) exactly once = {total} images"
        )

    def table(self) -> dict:
        table = {}
        for n, image in enumerate(self.images):
            c = self.components.index(image.component)
            key = (int(self.slice[n]), int(self.echo[n]), int(self.delay[n]), c)
            if key in table:
                raise SynflairError(
                    f"duplicated image {self.describe(key)}: {table[key].path} and {image.path}; "
                    f"{self.summary()}"
                )
            table[key] = image
        shape = (len(self.slices), len(self.tes), len(self.tds), len(self.components))
        missing = [key for key in np.ndindex(*shape) if key not in table]
        if missing:
            listed = "; ".join(self.describe(key) for key in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise SynflairError(f"missing image(s) {listed}{more}; {self.summary()}")
        return table

    def slice_step(self) -> float:
        normal = slice_normal(self.images[0].orientation)
        in_plane = [
            image.position - p * normal
            for image, p in zip(self.images, self.projection, strict=True)
        ]
        for image, offset in zip(self.images, in_plane, strict=True):
            if np.linalg.norm(offset - in_plane[0]) > 0.05:
                raise SynflairError(
                    f"{self.images[0].path} and {image.path} are shifted in-plane relative to "
                    "each other; expected a stack of aligned slices"
                )
        if len(self.slices) == 1:
            return self.images[0].thickness or 1.0
        gaps = np.diff(self.slices)
        if np.ptp(gaps) > 0.01 * gaps.mean() + 0.01:
            raise SynflairError(
                f"slice positions {[_fmt(p) for p in self.slices]} mm are not equally spaced "
                f"(missing slices?); {self.summary()}"
            )
        return float(gaps.mean())


def read_pixels(image: ImageHeader) -> np.ndarray:
    try:
        ds = pydicom.dcmread(image.path)
        pixels = ds.pixel_array
    except Exception as error:  # pydicom raises many types for damaged pixel data
        raise SynflairError(
            f"{image.path}: unreadable or truncated pixel data ({error})"
        ) from error
    if pixels.shape != image.shape:
        raise SynflairError(
            f"{image.path}: pixel data of shape {pixels.shape}; expected {image.shape} "
            "(one 2D frame of Rows x Columns)"
        )
    values = pixels.astype(np.float64) * image.slope + image.intercept
    bad = ~np.isfinite(values)
    if bad.any():
        raise SynflairError(
            f"{image.path}: {int(bad.sum())} pixel(s) are not finite (NaN or inf) after rescale; "
            "expected finite pixel values"
        )
    return values.T


@dataclass(frozen=True, eq=False)
class SortedMDME:
    """The checked (slice, TE, delay, component) -> file table of an MDME acquisition.

    Attributes
    ----------
    table : dict
        ``(slice, te, delay, component)`` indices -> :class:`ImageHeader`.
    grid : SortGrid
        Slice positions (mm along the normal), TEs and delays (ms), ascending.
    components : tuple of str
        The components used, e.g. ``("real", "imaginary")``.
    delay_attribute : str
    slice_step : float
        Distance between slice centres, mm (> 0).
    identifiers : frozenset of str
        Patient identifiers of the files, for the privacy check only.
    where : str
        The folders, for messages.
    """

    table: dict
    grid: SortGrid
    components: tuple[str, ...]
    delay_attribute: str
    slice_step: float
    identifiers: frozenset
    where: str


def sort_mdme(dicom_dirs, delay_attribute: str | None = None, *, files=None) -> SortedMDME:
    """Read the headers of the files in ``dicom_dirs`` and sort them (see the module doc).

    Parameters
    ----------
    dicom_dirs : path-like or iterable of path-like
    delay_attribute : str, optional
        DICOM keyword or ``"gggg,eeee"`` tag of the saturation delay (ms).
    files : iterable of path-like, optional
        Only these files (e.g. the MDME series that :mod:`synflair.io.study` found in a
        study folder); ``dicom_dirs`` then only names where they are, in messages.

    Returns
    -------
    SortedMDME
    """
    if isinstance(dicom_dirs, str | os.PathLike):
        dicom_dirs = [dicom_dirs]
    dirs = [Path(d) for d in dicom_dirs]
    if not dirs:
        raise SynflairError("no DICOM folder given; expected at least one")
    where = ", ".join(map(str, dirs))
    requested = None if delay_attribute is None else parse_delay_attribute(delay_attribute)
    keys = DEFAULT_DELAY_ATTRIBUTES if requested is None else (requested,)
    chosen = list_files(dirs) if files is None else [Path(f) for f in files]
    datasets = read_datasets(chosen, where)
    check_one_acquisition(datasets, where)
    headers = [read_header(path, ds, keys) for path, ds in datasets]
    images = [image for image, _ in headers]
    identifiers = frozenset().union(*(ids for _, ids in headers))
    check_geometry(images)
    components, images = select_components(images, where)
    check_rescale(images)
    delay_key = choose_delay(images, requested)
    for image in images:
        for name, value in (("EchoTime", image.te), (str(delay_key), image.delays[delay_key])):
            if not value > 0:
                raise SynflairError(f"{image.path}: {name} = {value!r}; expected a positive ms")
    grid = SortGrid(images, components, delay_key, where)
    table = grid.table()
    step = grid.slice_step()
    for name in ("tr", "flip_angle"):
        values = {round(getattr(image, name), 3) for image in images}
        if len(values) > 1:
            raise SynflairError(f"{where}: mixed {name} values {sorted(values)}; expected one")
    return SortedMDME(table, grid, components, str(delay_key), step, identifiers, where)
