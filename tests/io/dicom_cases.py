"""Small MDME and FLAIR acquisitions written as DICOM, shared by the io tests.

A module of its own (not ``conftest``) so that ``from dicom_cases import ...`` is
unambiguous when several test folders each have a ``conftest.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom

from synflair.geometry import stack_affine
from synflair.io.dicom_write import PatientInfo, write_magnitude_dicom, write_mdme_dicom
from synflair.physics import CONVENTIONAL_FLAIR, MDME_PAPER

#: Fake identifiers, each unlikely to occur by chance in any output.
PATIENT = PatientInfo(
    name="Zyxwort^Quilla",
    patient_id="PIDX93751",
    birth_date="19580317",
    accession="ACCQ48261",
    institution="Glimmerdale Clinic",
)
IDENTIFIERS = ("Zyxwort", "Quilla", "PIDX93751", "19580317", "ACCQ48261", "Glimmerdale Clinic")
AXIAL = stack_affine([-120.0, -110.0, -12.0], [1, 0, 0, 0, 1, 0], [7.5, 7.0], 6.0)


@dataclass(frozen=True)
class Acquisition:
    """Truth and files of one written MDME series."""

    directory: Path
    paths: list
    signed: np.ndarray  # (nx, ny, nz, 8) true signed MDME signal
    raw: np.ndarray  # complex written signal: signed * exp(i phase)
    phase: np.ndarray  # (nx, ny, nz) true background phase, radians
    tissue: np.ndarray  # (nx, ny, nz) bool, where PD > 0
    affine: np.ndarray


def tissue_maps(shape):
    """T1, T2 (ms), PD of a disk phantom: CSF core, GM ring, WM ring, air outside."""
    nx, ny, nz = shape
    x, y = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    r = np.hypot(x - (nx - 1) / 2, y - (ny - 1) / 2)[..., None] * np.ones(nz)
    scale = min(nx, ny) / 32
    csf, gm, head = r < 5 * scale, r < 9 * scale, r < 14 * scale
    t1 = np.where(csf, 4000.0, np.where(gm, 1330.0, 830.0))
    t2 = np.where(csf, 1000.0, np.where(gm, 100.0, 75.0))
    pd = np.where(head, np.where(csf, 1.0, np.where(gm, 0.8, 0.67)), 0.0)
    return t1, t2, pd


def smooth_phase(shape):
    """A smooth background phase (radians) that wraps around pi across the grid."""
    nx, ny, nz = shape
    x, y, z = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    return 2.5 + 4.0 * x / nx + 2.0 * y / ny + 1.5 * ((x - nx / 2) / nx) ** 2 + 0.2 * z


def write_acquisition(directory, shape=(32, 32, 3), affine=AXIAL, uid_seed="sub-01") -> Acquisition:
    t1, t2, pd = tissue_maps(shape)
    signed = MDME_PAPER.signal(t1, t2, pd)
    phase = smooth_phase(shape)
    raw = signed * np.exp(1j * phase)[..., None]
    paths = write_mdme_dicom(
        raw,
        affine,
        directory,
        protocol=MDME_PAPER,
        patient=PATIENT,
        uid_seed=uid_seed,
        slice_thickness=5.0,
    )
    return Acquisition(Path(directory), paths, signed, raw, phase, pd > 0, np.asarray(affine))


def write_flair(directory, shape=(32, 32, 3), affine=AXIAL, uid_seed="sub-01"):
    t1, t2, pd = tissue_maps(shape)
    volume = CONVENTIONAL_FLAIR.signal(t1, t2, pd) * 1000.0
    paths = write_magnitude_dicom(
        volume,
        affine,
        directory,
        patient=PATIENT,
        uid_seed=uid_seed,
        slice_thickness=5.0,
        tr=CONVENTIONAL_FLAIR.tr,
        te=CONVENTIONAL_FLAIR.te,
        ti=CONVENTIONAL_FLAIR.ti,
    )
    return volume, paths


def edit(path, change) -> None:
    """Apply ``change(dataset)`` to the DICOM file ``path`` in place."""
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(path, enforce_file_format=True)
