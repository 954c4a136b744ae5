"""Speed of DICOM writing and conversion at the paper's size (``synflair.io``).

Writes an MDME series of the paper's geometry (512x512 reconstruction, 30
slices, 2 TE x 4 TD, real + imaginary: 480 files) and a 512x512x30 FLAIR
series, then times ``read_mdme``, ``mdme_to_nifti`` (magnitude and real) and
``standard_to_nifti`` (dcm2niix through nipype), each in a fresh process.
Prints wall times, each step's peak resident memory, the round-trip error of
the magnitudes in units of the DICOM quantization step and the error of the
phase-corrected real part.

Usage::

    python bench/bench_io.py [--matrix 512] [--slices 30]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom

from synflair.geometry import stack_affine
from synflair.io.dcm2niix import standard_to_nifti
from synflair.io.dicom_write import PatientInfo, write_magnitude_dicom, write_mdme_dicom
from synflair.io.mdme import mdme_to_nifti, read_mdme
from synflair.physics import CONVENTIONAL_FLAIR, MDME_PAPER


def _head(n: int, nz: int):
    """T1, T2 (ms) and PD of concentric CSF / GM / WM ellipses, shape (n, n, nz)."""
    x, y = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n), indexing="ij")
    r = np.hypot(x / 0.75, y / 0.9)[..., None] * np.ones(nz)
    csf, gm, head = r < 0.25, r < 0.5, r < 0.9
    t1 = np.where(csf, 4000.0, np.where(gm, 1330.0, 830.0))
    t2 = np.where(csf, 1000.0, np.where(gm, 100.0, 75.0))
    pd = np.where(head, np.where(csf, 1.0, np.where(gm, 0.8, 0.67)), 0.0)
    return t1, t2, pd


def _timed(step: str, tmp: str) -> tuple[float, float]:
    """Run one conversion step in this (fresh) process: wall seconds, peak RSS MiB."""
    tmp_path = Path(tmp)
    start = time.perf_counter()
    if step == "read_mdme":
        read_mdme(tmp_path / "mdme")
    elif step.startswith("mdme_to_nifti"):
        component = step.split()[-1]
        mdme_to_nifti(tmp_path / "mdme", tmp_path / f"mdme_{component}.nii.gz", component=component)
    else:
        standard_to_nifti(tmp_path / "flair", tmp_path / "flair.nii.gz")
    seconds = time.perf_counter() - start
    # VmHWM: this process's peak RSS (ru_maxrss would include the parent's, kept across exec)
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return seconds, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matrix", type=int, default=512)
    parser.add_argument("--slices", type=int, default=30)
    args = parser.parse_args()
    n, nz = args.matrix, args.slices
    fov, thickness, gap = 240.0, 4.0, 1.0
    affine = stack_affine(
        [-fov / 2, -fov / 2, -nz * 2.5], [1, 0, 0, 0, 1, 0], [fov / n, fov / n], thickness + gap
    )
    t1, t2, pd = _head(n, nz)
    x = np.linspace(-1, 1, n)[:, None, None]
    phase = 1.0 + 2.5 * x + np.zeros((n, n, nz))  # ~0.01 rad per pixel, 5 rad across the FOV
    signed = (MDME_PAPER.signal(t1, t2, pd) * 1000.0).astype(np.float32)
    raw = signed * np.exp(1j * phase).astype(np.complex64)[..., None]
    flair = CONVENTIONAL_FLAIR.signal(t1, t2, pd) * 1000.0
    patient = PatientInfo("Bench^Mark", "BENCH0001", "19700101", "ACC0001", "Bench Hospital")

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        start = time.perf_counter()
        paths = write_mdme_dicom(
            raw, affine, tmp_path / "mdme", protocol=MDME_PAPER, patient=patient,
            uid_seed="bench", slice_thickness=thickness,
        )  # fmt: skip
        t_write = time.perf_counter() - start
        start = time.perf_counter()
        write_magnitude_dicom(
            flair, affine, tmp_path / "flair", patient=patient, uid_seed="bench",
            slice_thickness=thickness, tr=9000, te=124, ti=2472,
        )  # fmt: skip
        t_write_flair = time.perf_counter() - start
        print(f"grid {n}x{n}x{nz}, {len(paths)} MDME files + {nz} FLAIR files")
        print(f"{'write_mdme_dicom':28s} {t_write:7.2f} s")
        print(f"{'write_magnitude_dicom':28s} {t_write_flair:7.2f} s")

        steps = ("read_mdme", "mdme_to_nifti magnitude", "mdme_to_nifti real", "standard_to_nifti")
        context = multiprocessing.get_context("spawn")
        for step in steps:
            with context.Pool(1) as pool:
                seconds, peak = pool.apply(_timed, (step, tmp))
            print(f"{step:28s} {seconds:7.2f} s, peak memory {peak:6.0f} MiB (own process)")

        quantum = float(pydicom.dcmread(paths[0]).RescaleSlope)
        mdme = read_mdme(tmp_path / "mdme")
        error = np.abs(mdme.magnitude - np.abs(raw)).max() / quantum
        inside = pd > 0
        real_error = np.abs(mdme.real - signed)[inside].max() / np.abs(signed).max()
    print(f"magnitude round-trip error   {error:.3f} quantization steps (max)")
    print(f"real-part error in the head  {real_error:.2e} of the peak signal (max)")


if __name__ == "__main__":
    main()
