"""Study folders as PACS exports hold them, built from synflair's own DICOM series.

A study folder holds the MDME raw series, the conventional FLAIR, SyMRI-like
DERIVED series (a copy of the FLAIR with ImageType DERIVED, a new
SeriesInstanceUID and the description 'SyMRI T2 FLAIR'), a 3-slice localizer
without inversion, and optionally files recompressed as JPEG-LS, JPEG 2000
(pydicom's encoders) or JPEG Lossless (:mod:`jpeg_lossless`). Also used by
tests/workflow/test_workflow_study.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
from jpeg_lossless import compress_jpeg_lossless
from pydicom.uid import JPEG2000Lossless, JPEGLosslessSV1, JPEGLSLossless, generate_uid

from synflair.io.dicom_write import PatientInfo, write_magnitude_dicom

#: Transfer syntaxes the study folders use: pydicom encodes two, jpeg_lossless the third.
SYNTAXES = (JPEGLSLossless, JPEG2000Lossless, JPEGLosslessSV1)


def compress(path, syntax) -> None:
    """Recompress the DICOM file ``path`` in place (lossless)."""
    if syntax == JPEGLosslessSV1:
        compress_jpeg_lossless(path)
        return
    ds = pydicom.dcmread(path)
    ds.compress(syntax)
    ds.save_as(path, enforce_file_format=True)


def copy_series(
    source: Path, dest: Path, *, description: str, number: int, seed: str, **attributes
) -> Path:
    """Copy the series in ``source`` as a new series (new UIDs, number, description).

    ``attributes`` (DICOM keywords) are set on every file; ``None`` deletes one.
    """
    dest.mkdir(parents=True)
    series_uid = generate_uid(entropy_srcs=[seed, "series"])
    for index, path in enumerate(sorted(p for p in source.iterdir() if p.suffix == ".dcm")):
        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[seed, str(index)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesNumber = number
        ds.SeriesDescription = description
        for keyword, value in attributes.items():
            if value is None:
                delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        ds.save_as(dest / f"IM{index:05d}.dcm", enforce_file_format=True)
    return dest


def derived_copy(source: Path, dest: Path, *, description: str, number: int, seed: str) -> Path:
    """Copy the series in ``source`` as a DERIVED series (as SyMRI stores its images)."""
    image_type = ["DERIVED", "SECONDARY", "OTHER"]
    return copy_series(
        source, dest, description=description, number=number, seed=seed, ImageType=image_type
    )


def enhanced_copy(source: Path, dest: Path) -> Path:
    """The single-frame series in ``source`` as one Enhanced MR multi-frame file ``dest``."""
    from pydicom.dataset import Dataset
    from pydicom.uid import ExplicitVRLittleEndian

    files = sorted(p for p in source.iterdir() if p.suffix == ".dcm")
    frames = [pydicom.dcmread(p) for p in files]
    pixels = b"".join(f.pixel_array.tobytes() for f in frames)  # decoded
    ds = frames[0]
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"  # Enhanced MR Image Storage
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.NumberOfFrames = len(frames)
    items = []
    for frame in frames:
        item, position = Dataset(), Dataset()
        position.ImagePositionPatient = frame.ImagePositionPatient
        item.PlanePositionSequence = [position]
        items.append(item)
    ds.PerFrameFunctionalGroupsSequence = items
    ds.PixelData = pixels
    dest.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dest, enforce_file_format=True)
    return dest


def write_localizer(dest: Path, affine, *, patient: PatientInfo, seed: str, number: int = 3):
    """A 3-slice localizer without inversion, in the study's frame of reference."""
    rng = np.random.default_rng(0)
    volume = rng.uniform(0, 1000, size=(16, 16, 3))
    return write_magnitude_dicom(
        volume,
        affine,
        dest,
        patient=patient,
        uid_seed=f"{seed}-localizer",
        slice_thickness=10.0,
        tr=8.0,
        te=2.0,
        series_number=number,
        series_description="3Plane Loc SSFSE",
    )


def build_study(
    dest: Path,
    mdme_dir: Path,
    flair_dir: Path,
    *,
    affine,
    patient: PatientInfo,
    seed: str,
    compressed: dict | None = None,
) -> Path:
    """A study folder with MDME, FLAIR, a SyMRI-derived FLAIR copy and a localizer.

    Parameters
    ----------
    dest : path
        The study folder (created); series in sub-folders with scanner-like names.
    mdme_dir, flair_dir : path
        The series' own folders (copied, not changed).
    affine : (4, 4) array
        Geometry of the localizer.
    compressed : dict, optional
        ``"mdme"`` / ``"flair"`` -> list of transfer syntaxes, applied in turn to
        the series' files (``None`` entries leave a file uncompressed).

    Returns
    -------
    path
        ``dest``.
    """
    shutil.copytree(mdme_dir, dest / "s005_MDME")
    shutil.copytree(flair_dir, dest / "s007_FLAIR")
    derived_copy(
        flair_dir,
        dest / "s105_SyMRI_FLAIR",
        description="SyMRI T2 FLAIR",
        number=105,
        seed=f"{seed}-symri",
    )
    write_localizer(dest / "s001_LOC", affine, patient=patient, seed=seed)
    (dest / "s005_MDME" / "README.txt").write_text("exported by PACS\n" * 20)
    for kind, folder in (("mdme", "s005_MDME"), ("flair", "s007_FLAIR")):
        syntaxes = (compressed or {}).get(kind) or []
        files = sorted(p for p in (dest / folder).iterdir() if p.suffix == ".dcm")
        for index, path in enumerate(files):
            syntax = syntaxes[index % len(syntaxes)] if syntaxes else None
            if syntax is not None:
                compress(path, syntax)
    return dest
