"""Standard (single-image-type) series to NIfTI with dcm2niix, through nipype.

Conventional FLAIR, and vendor SyMRI outputs (synthetic FLAIR / T1w, masks),
are converted by dcm2niix (PyPI package ``dcm2niix``, binary on ``PATH``)
through :class:`nipype.interfaces.dcm2nii.Dcm2niix`, run into a temporary
folder beside the output. Exactly one NIfTI must come out; it is re-saved with
:func:`synflair.nifti.save` (fresh header: no ``descrip``, ``aux_file``,
``db_name`` or extensions), as float32 with the dcm2niix scaling applied, or in
its native integer type where dcm2niix stored no scaling. The sidecar is
dcm2niix's BIDS sidecar with its ``-ba y`` anonymization plus
:func:`synflair.io.anonymize.scrub_sidecar` (dcm2niix keeps e.g.
``InstitutionName``), and both outputs are checked for the identifiers of the
source DICOM before they are kept.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

from synflair import nifti
from synflair.errors import SynflairError
from synflair.io.anonymize import identifiers_of, scrub_sidecar
from synflair.io.dicom_files import describe_series, list_files, read_datasets, series_of
from synflair.io.publish import publish_image
from synflair.io.sidecar import sidecar_path

__all__ = ["dcm2niix_interface", "find_dcm2niix", "standard_to_nifti"]

_FILENAME = "series"


def find_dcm2niix() -> str | None:
    """The dcm2niix executable: beside the running interpreter, in the package, then on PATH.

    A virtual environment that is not activated (pipx, cron, a cluster job
    script calling ``/path/to/venv/bin/synflair``) has dcm2niix beside its
    interpreter but not on ``PATH``; the PyPI package ``dcm2niix`` also records
    where its binary is. Both come before ``PATH``, so the dcm2niix installed
    with synflair is the one used.

    Returns
    -------
    str or None
        The executable's path, or None when there is none.
    """
    beside = Path(sys.executable).parent / "dcm2niix"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    try:
        import dcm2niix as package
    except ImportError:
        package = None
    binary = getattr(package, "bin", None)
    if binary and Path(binary).is_file() and os.access(binary, os.X_OK):
        return str(binary)
    return shutil.which("dcm2niix")


def dcm2niix_interface(
    dicom_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    filename: str,
    executable: str = "dcm2niix",
):
    """The nipype Dcm2niix interface of one conversion.

    BIDS sidecar with anonymization (``-b y -ba y``), gzip (``-z y``), no
    cropping or merging; the command line is ``interface.cmdline``.
    ``executable`` is the dcm2niix to run (:func:`find_dcm2niix`).
    """
    os.environ.setdefault("NIPYPE_NO_ET", "1")  # no version check over the network
    from nipype.interfaces.dcm2nii import Dcm2niix

    return Dcm2niix(
        command=executable,
        source_dir=str(dicom_dir),
        output_dir=str(out_dir),
        out_filename=filename,
        bids_format=True,
        anon_bids=True,
        compress="y",
        crop=False,
        merge_imgs=False,
        single_file=False,
    )


def _source_identifiers(dicom_dir: Path, files=None) -> set[str]:
    """Check the folder (or ``files``) holds one readable series; return its identifying values.

    Raises
    ------
    SynflairError
        For a missing or empty folder, no DICOM file, unreadable or truncated
        files (named), or several series (listed).
    """
    where = str(dicom_dir)
    chosen = list_files([dicom_dir]) if files is None else [Path(f) for f in files]
    datasets = read_datasets(chosen, where)
    series = series_of(datasets)
    if len(series) > 1:
        raise SynflairError(
            f"{where}: {describe_series(series)}; expected exactly one series in the folder "
            "(--kind standard converts one series)"
        )
    found: set[str] = set()
    for _, ds in datasets:
        found |= identifiers_of(ds)
    return found


def _stage(files, folder: Path) -> Path:
    """Hard-link (or, across file systems, copy) ``files`` into the new ``folder``."""
    folder.mkdir()
    for number, path in enumerate(map(Path, files)):
        target = folder / f"{number:06d}.dcm"
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    return folder


def native_or_float(image: nib.Nifti1Image) -> np.ndarray:
    slope, intercept = image.dataobj.slope, image.dataobj.inter
    unscaled = slope in (0.0, 1.0) or not np.isfinite(slope)
    unscaled = unscaled and (intercept == 0.0 or not np.isfinite(intercept))
    if unscaled and np.issubdtype(image.get_data_dtype(), np.integer):
        return np.asarray(image.dataobj.get_unscaled())
    return np.asarray(image.dataobj, dtype=np.float32)


def standard_to_nifti(
    dicom_dir: str | os.PathLike, out_nii: str | os.PathLike, *, files=None
) -> Path:
    """Convert the one series in ``dicom_dir`` to ``out_nii`` and its sidecar.

    Parameters
    ----------
    dicom_dir : path-like
        Folder holding the DICOM of exactly one series.
    out_nii : path-like
        ``*.nii.gz`` or ``*.nii``; the sidecar goes to ``*.json`` beside it.
    files : iterable of path-like, optional
        Convert only these files of ``dicom_dir`` (one series that
        :mod:`synflair.io.study` found in a study folder): they are linked (or
        copied) into a temporary folder that dcm2niix converts.

    Returns
    -------
    pathlib.Path
        ``out_nii``.

    Raises
    ------
    SynflairError
        If the folder is missing or empty, holds files that are not DICOM or
        are truncated, or several series; if dcm2niix is not installed,
        yields no image, or yields several (echoes or image types).
    """
    dicom_dir, out_nii = Path(dicom_dir), Path(out_nii)
    out_json = sidecar_path(out_nii)
    identifiers = _source_identifiers(dicom_dir, files)
    executable = find_dcm2niix()
    if executable is None:
        raise SynflairError(
            f"dcm2niix not found (beside {sys.executable}, in the dcm2niix package, or on PATH); "
            f"install it (pip install dcm2niix) to convert {dicom_dir}"
        )
    out_nii.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".dcm2niix.", dir=out_nii.parent) as tmp:
        source = dicom_dir if files is None else _stage(files, Path(tmp) / "dicom")
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        interface = dcm2niix_interface(source, out_dir, _FILENAME, executable)
        try:
            result = interface.run()
            stdout = result.runtime.stdout or ""
        except Exception as error:  # nipype wraps a failed command in several types
            raise SynflairError(f"{dicom_dir}: dcm2niix failed ({error})") from error
        images = sorted(p for p in out_dir.iterdir() if p.name.endswith((".nii", ".nii.gz")))
        if len(images) != 1:
            names = [p.name for p in images]
            tail = " | ".join(stdout.strip().splitlines()[-4:])
            raise SynflairError(
                f"{dicom_dir}: dcm2niix produced {len(images)} images {names}; expected exactly "
                f"one series (one image) in the folder. dcm2niix said: {tail}"
            )
        json_path = sidecar_path(images[0])
        meta = json.loads(json_path.read_text()) if json_path.is_file() else {}
        image = nifti.load(images[0])
        data = native_or_float(image)
        publish_image(
            data, image.affine, out_nii, out_json, scrub_sidecar(meta), identifiers,
            dtype=data.dtype,
        )  # fmt: skip
    return out_nii
