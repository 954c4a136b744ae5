"""Write MDME (complex) and magnitude image series as DICOM MR Image Storage files.

One file per 2D image, explicit VR little endian, valid file meta, geometry
from :mod:`synflair.geometry` (``data[i, j, k] = pixel_array_of_slice_k[j, i]``).

MDME convention (docs/design.md, "DICOM of MDME"): every (slice, TE, TD) image is
written twice, as its real and its imaginary part. Each file carries

* the complex component in GE's private element (0043,102F) of the private
  block "GEMS_PARM_01" (0 = magnitude, 1 = phase, 2 = real, 3 = imaginary)
  and in ImageType (``ORIGINAL\\PRIMARY\\REAL`` / ``...\\IMAGINARY``);
* EchoTime (ms) and EchoNumbers, the saturation delay TD (ms) in TriggerTime,
  RepetitionTime (ms) and the excitation angle in FlipAngle (degrees). DICOM
  has no attribute for the saturation angle; it is not written (the importer
  takes it as a parameter, default 120 degrees).

Pixel quantization
------------------
Pixels are stored as integers with ``value = RescaleSlope * stored +
RescaleIntercept`` and intercept 0, so that zero signal is exactly zero. One
slope per series (not per image) so that all images of a series, and the real
and imaginary parts of each, share one scale, as on a scanner:

* MDME, signed 16-bit: ``slope = max(|Re|, |Im|) / 32767`` over the series;
* magnitude, unsigned 16-bit: ``slope = max(volume) / 65535``.

The largest value then maps to the largest stored integer, and the rounding
error of any pixel is at most ``slope / 2``. The slope is rounded to the 16
characters of a DICOM DS first and the pixels are quantized with that rounded
value, so that the file decodes to within ``slope / 2`` exactly. An all-zero
series gets slope 1.

Determinism
-----------
All UIDs derive from ``uid_seed`` (and the series number, description and
image index) through :func:`pydicom.uid.generate_uid` with entropy sources, and
no wall-clock time or date is written: the same inputs give the same bytes.
Every file is written atomically; all inputs are validated and quantized
before the first file is written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid
from pydicom.valuerep import format_number_as_ds

from synflair.atomic import atomic_output
from synflair.geometry import orientation_of, slice_normal, slice_positions
from synflair.physics import MDMEProtocol

__all__ = [
    "COMPONENT_CODES",
    "GE_PRIVATE_CREATOR",
    "PatientInfo",
    "uids_for",
    "write_magnitude_dicom",
    "write_mdme_dicom",
]

#: Private creator of GE's group 0043 block that holds (0043,102F).
GE_PRIVATE_CREATOR = "GEMS_PARM_01"
#: Values of GE's (0043,102F) "private image type".
COMPONENT_CODES = {"magnitude": 0, "phase": 1, "real": 2, "imaginary": 3}
_IMAGE_TYPE_WORD = {"magnitude": "M", "phase": "P", "real": "REAL", "imaginary": "IMAGINARY"}
_DATE = re.compile(r"^(\d{8})?$")
_MANUFACTURER = "synflair"


@dataclass(frozen=True)
class PatientInfo:
    """Patient and study identifiers written into the DICOM header.

    Attributes
    ----------
    name : str
        PatientName (PN), e.g. ``"Doe^Jane"``.
    patient_id : str
        PatientID (LO, at most 64 characters).
    birth_date : str
        PatientBirthDate, ``YYYYMMDD`` or empty.
    accession : str
        AccessionNumber (SH, at most 16 characters).
    institution : str
        InstitutionName (LO, at most 64 characters).
    """

    name: str
    patient_id: str
    birth_date: str
    accession: str = ""
    institution: str = ""

    def __post_init__(self):
        limits = {"name": 64, "patient_id": 64, "birth_date": 8, "accession": 16}
        limits["institution"] = 64
        for field, limit in limits.items():
            value = getattr(self, field)
            if not isinstance(value, str):
                raise ValueError(f"PatientInfo.{field} must be a str, not {value!r}")
            if len(value) > limit or "\\" in value or any(ord(c) < 32 for c in value):
                raise ValueError(
                    f"PatientInfo.{field} must be at most {limit} printable characters "
                    f"without a backslash, not {value!r}"
                )
        if not _DATE.match(self.birth_date):
            raise ValueError(
                f"PatientInfo.birth_date must be YYYYMMDD or empty, not {self.birth_date!r}"
            )


def _uid(uid_seed: str, *parts) -> str:
    return generate_uid(entropy_srcs=[str(uid_seed), *(str(p) for p in parts)])


def uids_for(uid_seed: str) -> dict:
    """Deterministic study-level UIDs for ``uid_seed``.

    Parameters
    ----------
    uid_seed : str
        Any string identifying the study (e.g. the subject id and cohort seed).

    Returns
    -------
    dict
        ``{"StudyInstanceUID": str, "FrameOfReferenceUID": str}``; the same
        seed always gives the same UIDs.
    """
    if not isinstance(uid_seed, str) or not uid_seed:
        raise ValueError(f"uid_seed must be a non-empty str, not {uid_seed!r}")
    return {
        "StudyInstanceUID": _uid(uid_seed, "study"),
        "FrameOfReferenceUID": _uid(uid_seed, "frame-of-reference"),
    }


def _ds(value) -> str:
    """``value`` formatted as a valid DICOM decimal string (at most 16 characters)."""
    return format_number_as_ds(float(value))


def _check_affine(affine) -> np.ndarray:
    affine = np.asarray(affine, dtype=float)
    if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
        raise ValueError(f"affine must be a finite 4x4 array, not {affine!r}")
    orientation, _, step = orientation_of(affine)
    if abs(np.dot(orientation[:3], orientation[3:])) > 1e-4:
        raise ValueError("affine must have orthogonal in-plane axes (DICOM cannot store shear)")
    normal = slice_normal(orientation)
    lps_slice = np.diag([-1.0, -1.0, 1.0]) @ affine[:3, 2]
    if np.linalg.norm(lps_slice - normal * step) > 1e-4 * max(1.0, abs(step)):
        raise ValueError(
            "affine's slice axis must be along the slice normal (no gantry tilt), "
            f"not {affine[:3, 2]!r}"
        )
    if abs(step) <= 0:
        raise ValueError("affine must have a non-zero slice step")
    return affine


def _check_positive(name: str, value) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return value


def _slope(max_abs: float, max_int: int) -> float:
    """Series-wide RescaleSlope as the value its DS string decodes to."""
    slope = max_abs / max_int if max_abs > 0 else 1.0
    return float(_ds(slope))


def _base_dataset(
    *, patient: PatientInfo, study_uid: str, frame_uid: str, series_uid: str, series_number: int
) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = MRImageStorage
    ds.Modality = "MR"
    ds.Manufacturer = _MANUFACTURER
    ds.ManufacturerModelName = "synflair.io.dicom_write"
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = ""
    ds.AccessionNumber = patient.accession
    ds.InstitutionName = patient.institution
    ds.ReferringPhysicianName = ""
    ds.StudyDate = ""
    ds.StudyTime = ""
    ds.StudyID = ""
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = int(series_number)
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ""
    ds.PatientPosition = "HFS"
    ds.MRAcquisitionType = "2D"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    return ds


def _geometry(ds: Dataset, position, orientation, spacing, thickness, step, normal) -> None:
    ds.ImagePositionPatient = [_ds(v) for v in position]
    ds.ImageOrientationPatient = [_ds(v) for v in orientation]
    ds.PixelSpacing = [_ds(v) for v in spacing]
    ds.SliceThickness = _ds(thickness)
    ds.SpacingBetweenSlices = _ds(abs(step))
    ds.SliceLocation = _ds(float(np.dot(position, normal)))


def _write(ds: Dataset, path: Path) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    with atomic_output(path, suffix=".dcm") as tmp:
        ds.save_as(tmp, enforce_file_format=True)


def _series_uids(uid_seed, kind, series_number, series_description, study_uid, frame_uid):
    study = uids_for(uid_seed)
    study_uid = study["StudyInstanceUID"] if study_uid is None else str(study_uid)
    frame_uid = study["FrameOfReferenceUID"] if frame_uid is None else str(frame_uid)
    series_uid = _uid(uid_seed, kind, "series", series_number, series_description)
    return study_uid, frame_uid, series_uid


def _file_name(series_number: int, instance: int) -> str:
    return f"S{series_number:03d}_I{instance:05d}.dcm"


def write_mdme_dicom(
    signal,
    affine,
    out_dir: str | os.PathLike,
    *,
    protocol: MDMEProtocol,
    patient: PatientInfo,
    uid_seed: str,
    slice_thickness: float,
    series_number: int = 1,
    series_description: str = "MDME raw",
) -> list[Path]:
    """Write a complex MDME acquisition as real and imaginary DICOM images.

    Parameters
    ----------
    signal : complex array_like, shape (nx, ny, nz, protocol.n_volumes)
        The raw complex images, volumes in delay-major order
        ``[TD1 TE1, TD1 TE2, TD2 TE1, ...]`` (as :attr:`MDMEProtocol.volume_te`),
        array convention of :mod:`synflair.geometry`. Arbitrary units.
    affine : (4, 4) array_like
        RAS voxel-to-world affine (mm) of the grid; in-plane axes orthogonal,
        slice axis along the slice normal.
    out_dir : path-like
        Directory for the files ``S{series:03d}_I{instance:05d}.dcm``; created.
    protocol : synflair.physics.MDMEProtocol
        TE, TD, TR (ms) and the excitation angle (degrees) written per image.
    patient : PatientInfo
        Identifiers written into every file.
    uid_seed : str
        Seed of every UID (study, frame of reference, series, SOP instances).
    slice_thickness : float
        SliceThickness, mm (the slice step of ``affine`` gives
        SpacingBetweenSlices).
    series_number : int
    series_description : str

    Returns
    -------
    list of pathlib.Path
        The files, in InstanceNumber order: slice-major, then volume, then
        real before imaginary; ``nz * n_volumes * 2`` of them.
    """
    signal = _check_mdme_signal(signal, protocol, patient)
    affine = _check_affine(affine)
    slice_thickness = _check_positive("slice_thickness", slice_thickness)
    nz, n_volumes = signal.shape[2:]
    stored, slope = _stored_components(signal)
    uids = _series_uids(uid_seed, "mdme", series_number, series_description, None, None)
    grid = _SliceGrid.of(affine, nz, slice_thickness)
    te, td = protocol.volume_te, protocol.volume_td
    echo_number = np.tile(np.arange(1, len(protocol.te) + 1), len(protocol.td))

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    instance = 0
    for k in range(nz):
        for v in range(n_volumes):
            for component in ("real", "imaginary"):
                instance += 1
                ds = _image_dataset(
                    patient, uids, series_number, series_description, grid, k,
                    sop_uid=_uid(uid_seed, "mdme", uids[2], k, v, component),
                    instance=instance, component=component,
                    pixels=stored[component][k, v], slope=slope, signed=True,
                )  # fmt: skip
                ds.ScanningSequence = "SE"
                ds.SequenceVariant = ["SK", "SP"]
                ds.ScanOptions = "SAT"
                ds.RepetitionTime = _ds(protocol.tr)
                ds.EchoTime = _ds(te[v])
                ds.EchoNumbers = int(echo_number[v])
                ds.TriggerTime = _ds(td[v])
                ds.FlipAngle = _ds(protocol.exc_angle)
                path = out_dir / _file_name(series_number, instance)
                _write(ds, path)
                paths.append(path)
    return paths


def _check_mdme_signal(signal, protocol: MDMEProtocol, patient: PatientInfo) -> np.ndarray:
    """The complex MDME signal as an array, after checking it, the protocol and the patient."""
    signal = np.asarray(signal)
    if not isinstance(protocol, MDMEProtocol):
        raise ValueError(f"protocol must be an MDMEProtocol, not {protocol!r}")
    if not isinstance(patient, PatientInfo):
        raise ValueError(f"patient must be a PatientInfo, not {patient!r}")
    if signal.ndim != 4 or signal.shape[3] != protocol.n_volumes:
        raise ValueError(
            f"signal must have shape (nx, ny, nz, {protocol.n_volumes}), not {signal.shape}"
        )
    if not np.all(np.isfinite(signal)):
        raise ValueError("signal must be finite (no NaN or inf)")
    return signal


def _stored_components(signal: np.ndarray) -> tuple[dict[str, np.ndarray], float]:
    """Signed 16-bit real and imaginary parts with one rescale slope for both.

    ``stored[component][k, v]`` is the (rows, columns) pixel array of slice k, volume v.
    """
    parts = {"real": np.real(signal), "imaginary": np.imag(signal)}
    max_abs = max(float(np.max(np.abs(p))) for p in parts.values())
    slope = _slope(max_abs, 32767)
    stored = {
        name: np.ascontiguousarray(
            np.clip(np.rint(part / slope), -32767, 32767).astype("<i2").transpose(2, 3, 1, 0)
        )
        for name, part in parts.items()
    }
    return stored, slope


@dataclass(frozen=True)
class _SliceGrid:
    """The per-slice geometry of a series: orientation, spacing, positions."""

    orientation: tuple
    spacing: tuple
    step: float
    normal: np.ndarray
    positions: np.ndarray
    thickness: float

    @classmethod
    def of(cls, affine: np.ndarray, nz: int, thickness: float) -> _SliceGrid:
        orientation, spacing, step = orientation_of(affine)
        return cls(orientation, spacing, step, slice_normal(orientation),
                   slice_positions(affine, nz), thickness)  # fmt: skip


def _image_dataset(
    patient: PatientInfo,
    uids: tuple[str, str, str],
    series_number: int,
    series_description: str,
    grid: _SliceGrid,
    k: int,
    *,
    sop_uid: str,
    instance: int,
    component: str,
    pixels: np.ndarray,
    slope: float,
    signed: bool,
) -> Dataset:
    """One image of slice ``k``: identity, geometry, pixels; the sequence is the caller's."""
    study_uid, frame_uid, series_uid = uids
    ds = _base_dataset(
        patient=patient,
        study_uid=study_uid,
        frame_uid=frame_uid,
        series_uid=series_uid,
        series_number=series_number,
    )
    ds.SOPInstanceUID = sop_uid
    ds.ImageType = ["ORIGINAL", "PRIMARY", _IMAGE_TYPE_WORD[component]]
    ds.SeriesDescription = series_description
    ds.InstanceNumber = instance
    ds.AcquisitionNumber = 1
    _geometry(ds, grid.positions[k], grid.orientation, grid.spacing, grid.thickness, grid.step,
              grid.normal)  # fmt: skip
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelRepresentation = 1 if signed else 0
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = _ds(slope)
    ds.RescaleType = "US"
    block = ds.private_block(0x0043, GE_PRIVATE_CREATOR, create=True)
    block.add_new(0x2F, "SS", COMPONENT_CODES[component])
    ds.PixelData = pixels.tobytes()
    return ds


def write_magnitude_dicom(
    volume,
    affine,
    out_dir: str | os.PathLike,
    *,
    patient: PatientInfo,
    uid_seed: str,
    slice_thickness: float,
    tr: float,
    te: float,
    ti: float | None = None,
    series_number: int = 2,
    series_description: str = "FLAIR",
    study_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
) -> list[Path]:
    """Write a non-negative 3D volume as an unsigned 16-bit magnitude series.

    Parameters
    ----------
    volume : array_like, shape (nx, ny, nz)
        Non-negative magnitude image, array convention of
        :mod:`synflair.geometry`; arbitrary units.
    affine : (4, 4) array_like
        RAS voxel-to-world affine (mm).
    out_dir : path-like
        Directory for ``S{series:03d}_I{instance:05d}.dcm``; created.
    patient : PatientInfo
    uid_seed : str
        Seed of the series and SOP instance UIDs, and of the study and frame of
        reference UIDs unless given.
    slice_thickness : float
        SliceThickness, mm.
    tr, te : float
        RepetitionTime and EchoTime, ms.
    ti : float, optional
        InversionTime, ms; when given, ScanningSequence is ``SE\\IR``.
    series_number : int
    series_description : str
    study_uid, frame_of_reference_uid : str, optional
        Put the series in an existing study / frame of reference (default:
        :func:`uids_for` of ``uid_seed``).

    Returns
    -------
    list of pathlib.Path
        One file per slice, in slice order.
    """
    volume = _check_magnitude_volume(volume, patient)
    affine = _check_affine(affine)
    slice_thickness = _check_positive("slice_thickness", slice_thickness)
    tr = _check_positive("tr", tr)
    te = _check_positive("te", te)
    if ti is not None:
        ti = _check_positive("ti", ti)
    nz = volume.shape[2]
    slope = _slope(float(volume.max()), 65535)
    stored = np.clip(np.rint(volume / slope), 0, 65535).astype("<u2")
    uids = _series_uids(
        uid_seed, "magnitude", series_number, series_description, study_uid, frame_of_reference_uid
    )
    grid = _SliceGrid.of(affine, nz, slice_thickness)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(nz):
        ds = _image_dataset(
            patient, uids, series_number, series_description, grid, k,
            sop_uid=_uid(uid_seed, "magnitude", uids[2], k), instance=k + 1,
            component="magnitude", pixels=np.ascontiguousarray(stored[:, :, k].T), slope=slope,
            signed=False,
        )  # fmt: skip
        _spin_echo_sequence(ds, tr, te, ti)
        path = out_dir / _file_name(series_number, k + 1)
        _write(ds, path)
        paths.append(path)
    return paths


def _check_magnitude_volume(volume, patient: PatientInfo) -> np.ndarray:
    """The magnitude volume as float, after checking it and the patient."""
    volume = np.asarray(volume)
    if not isinstance(patient, PatientInfo):
        raise ValueError(f"patient must be a PatientInfo, not {patient!r}")
    if volume.ndim != 3 or np.iscomplexobj(volume):
        raise ValueError(f"volume must be a real (nx, ny, nz) array, not shape {volume.shape}")
    volume = volume.astype(float)
    if not np.all(np.isfinite(volume)) or np.any(volume < 0):
        raise ValueError("volume must be finite and non-negative (a magnitude image)")
    return volume


def _spin_echo_sequence(ds: Dataset, tr: float, te: float, ti: float | None) -> None:
    """A spin-echo image's sequence attributes; with ``ti`` an inversion recovery (SE\\IR)."""
    ds.ScanningSequence = ["SE", "IR"] if ti is not None else "SE"
    ds.SequenceVariant = "NONE"
    ds.RepetitionTime = _ds(tr)
    ds.EchoTime = _ds(te)
    if ti is not None:
        ds.InversionTime = _ds(ti)
