"""One slice of each phantom image, for the README and the report (``synflair figure``).

Panels (one axial slice, radiological display: patient left on the right):
intracranial tissue fractions (WM, GM, CSF, lesion), the T1, T2 and PD truth,
an MDME magnitude image (TE 16.9 ms, the shortest saturation delay, where
CSF is negative before the magnitude) read from the DICOM, and the
conventional FLAIR read from the DICOM. Rendered with matplotlib's Agg canvas
(no display needed) and written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from synflair.atomic import atomic_output
from synflair.errors import SynflairError

__all__ = ["phantom_figure", "read_dicom_slice"]


def _dicom_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.dcm"))
    if not files:
        raise SynflairError(f"{folder}: no DICOM files (*.dcm); expected a phantom series")
    return files


def read_dicom_slice(folder: str | os.PathLike, slice_index: int, **match) -> np.ndarray:
    """One slice of a phantom DICOM series, in the ``data[i, j]`` array convention.

    Parameters
    ----------
    folder : path-like
        A series folder written by the phantom (``dicom/mdme`` or ``dicom/flair``).
    slice_index : int
        Position of the slice in inferior-to-superior order.
    **match
        Attribute values the image must have, e.g. ``EchoTime=16.9``; MDME slices
        are returned as the magnitude of their real and imaginary images.

    Returns
    -------
    numpy.ndarray of float, shape (columns, rows)
    """
    import pydicom

    folder = Path(folder)
    images = []
    for path in _dicom_files(folder):
        ds = pydicom.dcmread(path)
        if all(float(ds.get(key, np.nan)) == float(value) for key, value in match.items()):
            images.append(ds)
    positions = sorted({float(ds.ImagePositionPatient[2]) for ds in images})
    if not 0 <= slice_index < len(positions):
        raise SynflairError(
            f"{folder}: slice {slice_index} requested, but {len(positions)} slices match {match}"
        )
    chosen = [ds for ds in images if float(ds.ImagePositionPatient[2]) == positions[slice_index]]
    parts = [ds.pixel_array.T.astype(float) * float(ds.get("RescaleSlope", 1)) for ds in chosen]
    if len(parts) == 1:
        return parts[0]
    return np.sqrt(sum(part**2 for part in parts))


def _truth(truth: Path, subject: str, key: str) -> np.ndarray:
    from synflair.nifti import load_data

    data, _ = load_data(truth / f"sub-{subject}_{key}.nii.gz", ndim=3)
    return data


def phantom_figure(
    directory: str | os.PathLike,
    subject: str,
    out: str | os.PathLike,
    slice_index: int | None = None,
) -> Path:
    """Draw one slice of every phantom image of ``subject`` into the PNG ``out``.

    Parameters
    ----------
    directory : path-like
        The cohort folder (``synflair phantom --out``).
    subject : str
        Subject id, ``ph01`` or ``sub-ph01``.
    out : path-like
        PNG file to write.
    slice_index : int, optional
        Axial slice (default: the middle one).

    Returns
    -------
    pathlib.Path
    """
    from matplotlib.figure import Figure

    from synflair.physics import MDME_PAPER

    subject = subject[4:] if subject.startswith("sub-") else subject
    folder = Path(directory) / f"sub-{subject}"
    if not folder.is_dir():
        raise SynflairError(f"{folder}: no such subject folder (expected synflair phantom output)")
    truth = folder / "truth"
    maps = {
        key: _truth(truth, subject, key)
        for key in (
            "label-WM_probseg",
            "label-GM_probseg",
            "label-CSF_probseg",
            "label-lesion_probseg",
            "T1map",
            "T2map",
            "PDmap",
        )
    }
    n_slices = maps["T1map"].shape[2]
    k = n_slices // 2 if slice_index is None else int(slice_index)
    if not 0 <= k < n_slices:
        raise SynflairError(f"--slice must be in [0, {n_slices}), not {slice_index!r}")
    te, td = MDME_PAPER.te[0], MDME_PAPER.td[0]
    mdme = read_dicom_slice(folder / "dicom" / "mdme", k, EchoTime=te, TriggerTime=td)
    flair = read_dicom_slice(folder / "dicom" / "flair", k)

    panels = [
        ("WM fraction", maps["label-WM_probseg"][..., k], "gray", (0, 1)),
        ("GM fraction", maps["label-GM_probseg"][..., k], "gray", (0, 1)),
        ("CSF fraction", maps["label-CSF_probseg"][..., k], "gray", (0, 1)),
        ("lesion fraction", maps["label-lesion_probseg"][..., k], "hot", (0, 1)),
        ("T1 (ms)", maps["T1map"][..., k], "viridis", (0, 4500)),
        ("T2 (ms)", maps["T2map"][..., k], "viridis", (0, 250)),
        ("PD", maps["PDmap"][..., k], "viridis", (0, 1)),
        (f"MDME |S| TE {te:g} TD {td:g} ms", mdme, "gray", None),
        ("conventional FLAIR", flair, "gray", None),
    ]
    figure = Figure(figsize=(15, 10), layout="constrained")
    axes = figure.subplots(3, 3)
    for ax, (title, image, cmap, limits) in zip(axes.ravel(), panels, strict=True):
        vmin, vmax = limits if limits else (0.0, float(np.percentile(image, 99.5)) or 1.0)
        shown = ax.imshow(image.T, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(title)
        ax.set_axis_off()
        figure.colorbar(shown, ax=ax, shrink=0.8)
    figure.suptitle(f"synflair phantom sub-{subject}, slice {k + 1} of {n_slices}")
    with atomic_output(out, suffix=".png") as tmp:
        figure.savefig(tmp, dpi=80)
    return Path(out)
