"""Loading, checking and saving NIfTI images with errors that name the file."""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np

from synflair.atomic import atomic_output
from synflair.errors import SynflairError


def load(path: str | os.PathLike, *, ndim: int | tuple[int, ...] | None = None) -> nib.Nifti1Image:
    """Load a NIfTI image, failing with a message that names the file.

    Parameters
    ----------
    path : path-like
        A ``.nii`` or ``.nii.gz`` file.
    ndim : int or tuple of int, optional
        Accepted numbers of dimensions.

    Returns
    -------
    nibabel.Nifti1Image
    """
    path = Path(path)
    if not path.is_file():
        raise SynflairError(f"{path}: no such file (expected a NIfTI image)")
    try:
        image = nib.load(str(path))
    except Exception as error:  # nibabel raises several types for bad files
        raise SynflairError(f"{path}: not a readable NIfTI image ({error})") from error
    if ndim is not None:
        accepted = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if image.ndim not in accepted:
            raise SynflairError(
                f"{path}: expected a {' or '.join(map(str, accepted))}D image, "
                f"got shape {image.shape}"
            )
    return image


def load_data(
    path: str | os.PathLike,
    *,
    ndim: int | tuple[int, ...] | None = None,
    dtype=np.float32,
    finite: bool = True,
) -> tuple[np.ndarray, nib.Nifti1Image]:
    """Load a NIfTI image's data as ``dtype``; reject non-finite values if ``finite``.

    Returns
    -------
    data : numpy.ndarray
    image : nibabel.Nifti1Image
    """
    image = load(path, ndim=ndim)
    data = np.asarray(image.dataobj, dtype=dtype)
    if finite and not np.all(np.isfinite(data)):
        bad = int(np.size(data) - np.count_nonzero(np.isfinite(data)))
        raise SynflairError(f"{path}: {bad} non-finite (NaN or inf) values; expected finite data")
    return data, image


def load_mask(
    path: str | os.PathLike,
    *,
    reference: nib.Nifti1Image | None = None,
    reference_path: str | os.PathLike | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Load a binary mask (values > 0.5), optionally checking it against a reference grid."""
    data, image = load_data(path, ndim=3)
    if reference is not None:
        check_same_grid(image, reference, path, reference_path or "reference image")
    mask = data > 0.5
    if not allow_empty and not mask.any():
        raise SynflairError(f"{path}: the mask is empty (expected at least one voxel > 0.5)")
    return mask


def check_same_grid(
    a: nib.Nifti1Image, b: nib.Nifti1Image, name_a, name_b, *, atol: float = 1e-3
) -> None:
    """Raise if two images do not share the same 3D voxel grid (shape and affine)."""
    if a.shape[:3] != b.shape[:3]:
        raise SynflairError(
            f"{name_a} has shape {a.shape[:3]} but {name_b} has {b.shape[:3]}; "
            "expected images on the same voxel grid"
        )
    if not np.allclose(a.affine, b.affine, atol=atol):
        raise SynflairError(
            f"{name_a} and {name_b} have different affines (voxel-to-world geometry); "
            f"expected the same grid.\n{name_a}:\n{a.affine}\n{name_b}:\n{b.affine}"
        )


def save(
    data: np.ndarray,
    affine: np.ndarray,
    path: str | os.PathLike,
    *,
    header: nib.Nifti1Header | None = None,
    dtype=np.float32,
    intent: str | None = None,
) -> Path:
    """Save ``data`` as NIfTI atomically, with an empty ``descrip`` (no identifiers).

    Parameters
    ----------
    data : numpy.ndarray
    affine : (4, 4) numpy.ndarray
    path : path-like
    header : nibabel.Nifti1Header, optional
        Template header (units, slice info); its ``descrip`` is cleared.
    dtype : numpy dtype
    intent : str, optional
        NIfTI intent name, e.g. ``"label"``.
    """
    image = nib.Nifti1Image(np.asarray(data, dtype=dtype), affine, header=header)
    image.header["descrip"] = b""
    image.header.extensions.clear()
    image.header.set_xyzt_units("mm", "sec")
    image.header.set_data_dtype(dtype)
    if intent is not None:
        image.header.set_intent(intent)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    with atomic_output(path) as tmp:
        nib.save(image, str(tmp))
    return Path(path)
