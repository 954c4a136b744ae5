"""Loading, checking and saving NIfTI images with errors that name the file."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

from synflair.atomic import atomic_output
from synflair.errors import SynflairError


def _verified_bytes(path: Path) -> bytes:
    """The whole file, decompressed and checked (gzip CRC and length) if it is gzipped."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        if path.name.endswith(".gz"):
            raise SynflairError(f"{path}: not a gzip file (expected a gzip-compressed NIfTI image)")
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as error:
        raise SynflairError(
            f"{path}: truncated gzip stream ({error}); expected a complete .nii.gz file"
        ) from error
    except (OSError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise SynflairError(
            f"{path}: corrupted gzip stream ({error}); expected an intact .nii.gz file"
        ) from error


def _from_bytes(path: Path, raw: bytes) -> nib.Nifti1Image:
    """A NIfTI-1 or NIfTI-2 image from its single-file bytes, checked for length."""
    if len(raw) < 348:
        raise SynflairError(f"{path}: {len(raw)} bytes, too short for a NIfTI header")
    sizes = {int.from_bytes(raw[:4], order) for order in ("little", "big")}
    kind = nib.Nifti2Image if 540 in sizes else nib.Nifti1Image
    if not sizes & {348, 540}:
        raise SynflairError(f"{path}: not a NIfTI image (header size field is not 348 or 540)")
    try:
        image = kind.from_bytes(raw)
    except Exception as error:  # nibabel raises several types for bad headers
        raise SynflairError(f"{path}: not a readable NIfTI image ({error})") from error
    header = image.header
    offset = int(getattr(image.dataobj, "offset", 0))  # the file's vox_offset
    n_bytes = (
        int(np.prod(header.get_data_shape(), dtype=np.int64)) * header.get_data_dtype().itemsize
    )
    needed = offset + n_bytes
    if len(raw) < needed:
        raise SynflairError(
            f"{path}: truncated NIfTI image: {len(raw)} bytes of data, the header "
            f"(shape {header.get_data_shape()}, {header.get_data_dtype()}) needs {needed}"
        )
    return image


def load(path: str | os.PathLike, *, ndim: int | tuple[int, ...] | None = None) -> nib.Nifti1Image:
    """Load a NIfTI image, verified whole, failing with a message that names the file.

    The whole file is read: a ``.nii.gz`` must pass gzip's CRC and length checks
    (a flipped byte or a truncated download is refused rather than read as
    plausible voxels), and the data must be as long as the header says. This is
    the one NIfTI reader of synflair's commands.

    Parameters
    ----------
    path : path-like
        A ``.nii`` or ``.nii.gz`` file.
    ndim : int or tuple of int, optional
        Accepted numbers of dimensions.

    Returns
    -------
    nibabel.Nifti1Image
        Held in memory (NIfTI-2 inputs give a ``Nifti2Image``).
    """
    path = Path(path)
    if path.is_dir():
        raise SynflairError(f"{path}: is a folder (expected a NIfTI image file)")
    if not path.is_file():
        raise SynflairError(f"{path}: no such file (expected a NIfTI image)")
    if not path.name.endswith((".nii", ".nii.gz")):
        raise SynflairError(f"{path}: expected a .nii or .nii.gz file")
    try:
        raw = _verified_bytes(path)
    except PermissionError as error:
        raise SynflairError(f"{path}: not readable ({error.strerror})") from error
    image = _from_bytes(path, raw)
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
    try:
        data = np.asarray(image.dataobj, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as error:
        raise SynflairError(f"{path}: voxel data not readable as numbers ({error})") from error
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
            f"expected the same grid. {name_a}: {_one_line(a.affine)}; "
            f"{name_b}: {_one_line(b.affine)}"
        )


def _one_line(matrix: np.ndarray) -> str:
    """A 4 x 4 affine as ``[[...], [...], ...]`` on one line."""
    rows = np.asarray(matrix, dtype=float)[:3]
    return "[" + ", ".join("[" + " ".join(f"{v:.4g}" for v in row) + "]" for row in rows) + "]"


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
