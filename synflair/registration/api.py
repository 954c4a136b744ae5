"""Register conventional FLAIR to synthetic FLAIR space; apply the transform to other images.

:func:`register` estimates a rigid (6 dof) or affine (12 dof) transform with the
chosen backend, resamples the moving image onto the fixed grid and writes the
transform as JSON in synflair's convention (:mod:`synflair.registration.transform`).
:func:`apply_transform` resamples further images (e.g. lesion masks) with a
stored transform.

Interpolation: images use trilinear (``"linear"``, default) or B-spline
(``"spline"``; may overshoot near edges) interpolation. Label images and binary
masks use nearest neighbour (``"nearest"``), which keeps labels and dtype.
Fraction maps (values in [0, 1]) use ``"linear"``, which keeps them in [0, 1];
to make a binary mask from one, threshold the result at 0.5 (linear +
threshold), which shifts a boundary less than nearest neighbour does.
``interpolation="auto"`` picks ``"nearest"`` for integer-typed images and for
images whose values are all 0 or 1, else ``"linear"``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

from synflair.atomic import atomic_output
from synflair.errors import SynflairError
from synflair.nifti import load, load_data, load_mask, save
from synflair.registration import ants as ants_backend
from synflair.registration import export
from synflair.registration import fsl as fsl_backend
from synflair.registration.backend import Estimation, Resampling, resolve_backend, resolve_settings
from synflair.registration.transform import DOFS, WorldTransform

__all__ = ["INTERPOLATIONS", "apply_transform", "choose_interpolation", "register"]

log = logging.getLogger(__name__)

#: Accepted interpolation names.
INTERPOLATIONS = ("auto", "linear", "nearest", "spline")
_BACKENDS = {"fsl": fsl_backend, "ants": ants_backend}


def choose_interpolation(image: nib.Nifti1Image) -> str:
    """Interpolation for an image: ``"nearest"`` for labels and binary masks, else ``"linear"``.

    Labels are integer-typed images; binary masks hold only 0 and 1.
    """
    if np.issubdtype(image.get_data_dtype(), np.integer):
        return "nearest"
    data = np.asarray(image.dataobj)
    return "nearest" if np.all((data == 0) | (data == 1)) else "linear"


def _check_image(path: str | os.PathLike) -> nib.Nifti1Image:
    """A finite, non-constant 3D image; errors name the file."""
    data, image = load_data(path, ndim=3)
    if not np.ptp(data) > 0:
        raise SynflairError(f"{path}: the image is constant ({data.flat[0]!r}); nothing to align")
    return image


def _coverage(moving: nib.Nifti1Image, fixed: nib.Nifti1Image, matrix: np.ndarray) -> float:
    """Fraction of fixed-grid voxels whose transformed centre lies inside the moving grid."""
    shape = fixed.shape[:3]
    step = max(1, round(float(np.prod(shape) / 2e5) ** (1 / 3)))
    grid = np.mgrid[0 : shape[0] : step, 0 : shape[1] : step, 0 : shape[2] : step]
    voxels = np.vstack([grid.reshape(3, -1), np.ones(grid[0].size)])
    to_moving_voxels = np.linalg.inv(moving.affine) @ matrix @ fixed.affine
    mapped = (to_moving_voxels @ voxels)[:3]
    upper = np.array(moving.shape[:3], dtype=float)[:, None] - 0.5
    inside = np.all((mapped >= -0.5) & (mapped <= upper), axis=0)
    return float(inside.mean())


def _resample(
    backend: str,
    moving: Path,
    fixed: Path,
    matrix: np.ndarray,
    out: Path,
    interpolation: str,
    workdir: Path,
) -> Path:
    moving_image = load(moving, ndim=3)
    fixed_image = load(fixed, ndim=3)
    if interpolation == "auto":
        interpolation = choose_interpolation(moving_image)
    if interpolation not in INTERPOLATIONS:
        raise SynflairError(f"interpolation must be one of {INTERPOLATIONS}, not {interpolation!r}")
    data = _BACKENDS[backend].resample(Resampling(moving, fixed, matrix, interpolation, workdir))
    if interpolation == "nearest":
        dtype = moving_image.get_data_dtype()
        data = np.rint(data) if np.issubdtype(dtype, np.integer) else data
    else:
        dtype = np.float32
    return save(data, fixed_image.affine, out, header=fixed_image.header, dtype=dtype)


def apply_transform(
    moving: str | os.PathLike,
    fixed: str | os.PathLike,
    transform: WorldTransform | np.ndarray,
    out: str | os.PathLike,
    *,
    interpolation: str = "auto",
    backend: str = "auto",
) -> Path:
    """Resample ``moving`` onto the grid of ``fixed`` with a known transform.

    Parameters
    ----------
    moving : path-like
        3D NIfTI in the moving space (e.g. a lesion mask drawn on the
        conventional FLAIR).
    fixed : path-like
        3D NIfTI whose grid the output takes.
    transform : WorldTransform or (4, 4) numpy.ndarray
        ``fixed_to_moving_world`` (RAS mm), e.g. from :func:`register`.
    out : path-like
        Output NIfTI, written atomically.
    interpolation : {"auto", "linear", "nearest", "spline"}
        See the module docstring.
    backend : {"auto", "fsl", "ants"}
        Which tool resamples.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    matrix = (
        transform.fixed_to_moving_world
        if isinstance(transform, WorldTransform)
        else np.asarray(transform, dtype=float)
    )
    name = resolve_backend(backend, ("flirt",))
    load_data(moving, ndim=3)
    load(fixed, ndim=3)
    with tempfile.TemporaryDirectory(prefix="synflair-apply-") as work:
        return _resample(
            name, Path(moving), Path(fixed), matrix, Path(out), interpolation, Path(work)
        )


def register(
    moving: str | os.PathLike,
    fixed: str | os.PathLike,
    out_image: str | os.PathLike,
    *,
    backend: str = "auto",
    dof: int = 6,
    out_transform: str | os.PathLike,
    interpolation: str = "linear",
    fixed_mask: str | os.PathLike | None = None,
    settings: fsl_backend.FlirtSettings | ants_backend.AntsSettings | None = None,
    min_coverage: float = 0.25,
    out_itk: str | os.PathLike | None = None,
    out_flirt: str | os.PathLike | None = None,
) -> WorldTransform:
    """Register ``moving`` to ``fixed``; write the resampled image and the transform.

    Parameters
    ----------
    moving : path-like
        3D NIfTI to move (the conventional FLAIR).
    fixed : path-like
        3D NIfTI that defines the target space and grid (the synthetic FLAIR).
    out_image : path-like
        The moving image resampled on the fixed grid (float32).
    backend : {"auto", "fsl", "ants"}
        ``auto`` picks FSL where ``$FSLDIR`` holds an installation.
    dof : {6, 12}
        Rigid or affine.
    out_transform : path-like
        JSON with ``fixed_to_moving_world`` (``x_moving = M @ x_fixed``, RAS
        mm), ``backend``, ``dof``, ``rotation_deg``, ``translation_mm``.
    interpolation : {"linear", "spline"}
        For the output image.
    fixed_mask : path-like, optional
        Restricts the similarity metric to a region of the fixed image (e.g.
        the intracranial mask); same grid as ``fixed``.
    settings : FlirtSettings or AntsSettings, optional
        Backend options; must match the backend that runs.
    min_coverage : float
        Fail if less than this fraction of the fixed grid maps inside the
        moving field of view (a failed registration).
    out_itk : path-like, optional
        Also the transform as an ITK text file (antsApplyTransforms, antspyx;
        :mod:`synflair.registration.export`).
    out_flirt : path-like, optional
        Also the FLIRT matrix of ``flirt -in moving -ref fixed``.

    Returns
    -------
    WorldTransform
    """
    moving, fixed = Path(moving), Path(fixed)
    moving_image, fixed_image = _check_inputs(moving, fixed, dof, interpolation, fixed_mask)
    name, settings = resolve_settings(
        backend, ("flirt",), settings, fsl_backend.FlirtSettings, ants_backend.AntsSettings
    )
    with tempfile.TemporaryDirectory(prefix="synflair-register-") as work:
        work = Path(work)
        job = Estimation(moving, fixed, dof, work, fixed_mask)
        matrix = _BACKENDS[name].estimate(job, settings)
        coverage = _coverage(moving_image, fixed_image, matrix)
        if coverage < min_coverage:
            raise SynflairError(
                f"registration of {moving} to {fixed} failed: only {coverage:.0%} of the fixed "
                f"grid maps into the moving image (expected >= {min_coverage:.0%})"
            )
        details = {"moving": moving.name, "fixed": fixed.name, "interpolation": interpolation,
                   "settings": {k: _jsonable(v) for k, v in vars(settings).items()}}  # fmt: skip
        result = WorldTransform(matrix, backend=name, dof=dof, details=details)
        outputs = {"image": out_image, "transform": out_transform, "itk": out_itk,
                   "flirt": out_flirt}  # fmt: skip
        _write_outputs(result, matrix, job, interpolation, outputs)
    log.info("registered %s to %s with %s (%d dof): rotation %.2f deg, translation %s mm",
             moving.name, fixed.name, name, dof, result.to_json()["rotation_angle_deg"],
             np.round(matrix[:3, 3], 2).tolist())  # fmt: skip
    return result


def _check_inputs(moving: Path, fixed: Path, dof: int, interpolation: str, fixed_mask):
    """Check the options and the images (and the mask on the fixed grid); the two images."""
    if dof not in DOFS:
        raise SynflairError(f"dof must be one of {DOFS}, not {dof!r}")
    if interpolation not in ("linear", "spline"):
        raise SynflairError(f"interpolation must be 'linear' or 'spline', not {interpolation!r}")
    moving_image = _check_image(moving)
    fixed_image = _check_image(fixed)
    if fixed_mask is not None:
        load_mask(fixed_mask, reference=fixed_image, reference_path=fixed)
    return moving_image, fixed_image


def _write_outputs(
    result: WorldTransform, matrix: np.ndarray, job: Estimation, interpolation: str, outputs: dict
) -> None:
    """The resampled image, the transform and the optional exports: all together or none."""
    name = result.backend
    with contextlib.ExitStack() as stack:
        tmp_image = stack.enter_context(atomic_output(outputs["image"]))
        tmp_transform = stack.enter_context(atomic_output(outputs["transform"]))
        _resample(name, job.moving, job.fixed, matrix, tmp_image, interpolation, job.workdir)
        result.write(tmp_transform)
        if outputs["itk"] is not None:
            export.write_itk(matrix, stack.enter_context(atomic_output(outputs["itk"])))
        if outputs["flirt"] is not None:
            tmp_flirt = stack.enter_context(atomic_output(outputs["flirt"]))
            export.write_flirt(matrix, job.moving, job.fixed, tmp_flirt)


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value
