"""NIfTI inputs in place of DICOM: the MDME 4D NIfTI with its sidecar, a FLAIR NIfTI.

A subject sheet or a BIDS dataset may give the MDME acquisition as the 4D NIfTI
that ``synflair dicom2nifti --kind mdme`` writes (8 volumes, 2 echo times x 4
saturation delays in delay-major order, with the JSON sidecar of
:mod:`synflair.io.sidecar` beside it), and the conventional FLAIR as a NIfTI
(e.g. from dcm2niix, with or without its JSON sidecar). The checks are the
converter's: the sidecar is read and checked for plausibility
(:class:`~synflair.io.sidecar.MDMESidecar`), the image must be 4D with one
volume per sidecar entry and 8 of them, every voxel finite; the FLAIR must be
3D (a 4D image with one volume is accepted) and finite.

Checked inputs are written to the workflow's NIfTI folder with a fresh header
(no ``descrip``, ``aux_file`` or extensions: :func:`synflair.nifti.save`) and
a sidecar without identifying keys (:func:`synflair.io.anonymize.scrub_sidecar`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from synflair import nifti
from synflair.atomic import write_json
from synflair.errors import SynflairError
from synflair.io.anonymize import scrub_sidecar
from synflair.io.sidecar import read_mdme_sidecar, sidecar_path, write_mdme_sidecar

__all__ = ["MDME_VOLUMES", "import_flair_nifti", "import_mdme_nifti", "is_nifti"]

#: Volumes of an MDME NIfTI: 2 echo times x 4 saturation delays.
MDME_VOLUMES = 8


def is_nifti(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a NIfTI file (``.nii`` or ``.nii.gz``), not a DICOM folder."""
    return str(path).endswith((".nii", ".nii.gz"))


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def import_mdme_nifti(
    source: str | os.PathLike, out_nii: str | os.PathLike, *, component: str | None = None
) -> Path:
    """Check an MDME NIfTI and its sidecar and write them to ``out_nii`` (+ ``.json``).

    Parameters
    ----------
    source : path-like
        The 4D MDME NIfTI; its sidecar is ``source`` with ``.json``.
    out_nii : path-like
        ``*.nii.gz`` or ``*.nii``.
    component : {"magnitude", "real"}, optional
        The image component the workflow expects (``conversion.mdme_component``);
        a sidecar whose ``ImageComponent`` differs is refused.

    Returns
    -------
    pathlib.Path
        ``out_nii``.

    Raises
    ------
    SynflairError
        Naming the file: a missing or implausible sidecar, not 4D, not 8
        volumes, volumes that do not match the sidecar, non-finite voxels, or
        another component than ``component``.
    """
    source, out_nii = Path(source), Path(out_nii)
    data, image = nifti.load_data(source, ndim=4)
    json_path = sidecar_path(source)
    sidecar = read_mdme_sidecar(json_path, n_volumes=data.shape[3], image=source)
    sidecar.protocol()  # a full TE x TD grid in delay-major order
    if data.shape[3] != MDME_VOLUMES:
        raise SynflairError(
            f"{source}: {data.shape[3]} volumes; expected {MDME_VOLUMES} (2 echo times x 4 "
            "saturation delays, delay-major), as synflair dicom2nifti --kind mdme writes"
        )
    if component is not None and sidecar.image_component != component:
        raise SynflairError(
            f"{json_path}: ImageComponent {sidecar.image_component!r} but the workflow "
            f"expects {component!r} (config key 'conversion.mdme_component'); convert the "
            "MDME DICOM with that component or change the key"
        )
    out_json = sidecar_path(out_nii)
    clean = dataclasses.replace(
        sidecar, extra={**scrub_sidecar(sidecar.extra), "Sources": [source.name]}
    )
    try:
        nifti.save(data, image.affine, out_nii)
        write_mdme_sidecar(out_json, clean)
    except BaseException:
        _remove(out_nii, out_json)
        raise
    return out_nii


def import_flair_nifti(source: str | os.PathLike, out_nii: str | os.PathLike) -> Path:
    """Check a FLAIR NIfTI and write it (and its scrubbed sidecar, if any) to ``out_nii``.

    Integer images keep their type when the file stores no scaling; others
    are written as float32.

    Raises
    ------
    SynflairError
        Naming the file: not 3D (or 4D with one volume), non-finite voxels, an
        unreadable sidecar.
    """
    source, out_nii = Path(source), Path(out_nii)
    image = nifti.load(source, ndim=(3, 4))
    if image.ndim == 4 and image.shape[3] != 1:
        raise SynflairError(f"{source}: {image.shape[3]} volumes; expected one 3D FLAIR image")
    from synflair.io.dcm2niix import native_or_float

    data = native_or_float(image)
    data = data.reshape(image.shape[:3])
    if not np.all(np.isfinite(data)):
        bad = int(data.size - np.count_nonzero(np.isfinite(data)))
        raise SynflairError(f"{source}: {bad} non-finite (NaN or inf) voxels; expected finite data")
    meta = {}
    json_path = sidecar_path(source)
    if json_path.is_file():
        try:
            meta = json.loads(json_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SynflairError(f"{json_path}: not a readable JSON file ({error})") from error
        if not isinstance(meta, dict):
            raise SynflairError(f"{json_path}: expected a JSON object, not {type(meta).__name__}")
    out_json = sidecar_path(out_nii)
    try:
        nifti.save(data, image.affine, out_nii, dtype=data.dtype)
        write_json(out_json, {**scrub_sidecar(meta), "Sources": [source.name]})
    except BaseException:
        _remove(out_nii, out_json)
        raise
    return out_nii
