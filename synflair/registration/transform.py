"""World-space (RAS mm) rigid/affine transforms: the convention, JSON I/O and errors.

The one convention of synflair for a registration of a *moving* image to a
*fixed* image is the 4x4 matrix ``M`` (``fixed_to_moving_world``) with::

    x_moving = M @ x_fixed        (homogeneous RAS world coordinates, mm)

for the same anatomical point. ``M`` is what a resampler needs (for every
fixed-grid voxel it gives the point to sample in the moving image) and it is
the convention of the phantom's truth (``truth/sub-<id>_motion.json``,
``"flair_from_mdme"``: the conventional FLAIR is the moving image and the MDME
/ synthetic FLAIR space the fixed one), so recovered and true motion compare
directly with :func:`transform_error`.

Rotations are reported as extrinsic x-y-z Euler angles in degrees:
``R = Rz(rz) @ Ry(ry) @ Rx(rx)`` about the RAS axes through the world origin,
and the translation is ``M[:3, 3]`` (mm). For a 12-dof affine, the rotation is
that of the closest rotation matrix (polar decomposition).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.transform import Rotation

from synflair.atomic import write_json
from synflair.errors import SynflairError

__all__ = [
    "CONVENTION",
    "DOFS",
    "WorldTransform",
    "closest_rotation",
    "euler_deg",
    "max_displacement",
    "read_transform",
    "resample_world",
    "rigid_matrix",
    "rotation_angle_deg",
    "transform_error",
]

#: Allowed degrees of freedom: rigid (6) or full affine (12).
DOFS = (6, 12)
#: The convention written into every transform JSON.
CONVENTION = "x_moving = M @ x_fixed; homogeneous RAS world coordinates in mm"


def _as_matrix(matrix: ArrayLike, name: str = "matrix") -> np.ndarray:
    """Validate a homogeneous 4x4 affine and return it as float array."""
    try:
        m = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a 4x4 matrix of numbers, not {matrix!r}") from error
    if m.shape != (4, 4):
        raise ValueError(f"{name} must be a 4x4 matrix, not shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be finite, not {m.tolist()!r}")
    if not np.allclose(m[3], [0.0, 0.0, 0.0, 1.0]):
        raise ValueError(f"{name} must have last row [0, 0, 0, 1], not {m[3].tolist()!r}")
    if abs(np.linalg.det(m[:3, :3])) < 1e-9:
        raise ValueError(f"{name} must be invertible, not {m.tolist()!r}")
    return m


def rigid_matrix(
    rotation_deg: ArrayLike = (0.0, 0.0, 0.0),
    translation_mm: ArrayLike = (0.0, 0.0, 0.0),
    *,
    center_mm: ArrayLike | None = None,
) -> np.ndarray:
    """4x4 rigid transform from Euler angles and a translation.

    Parameters
    ----------
    rotation_deg : (3,) array_like
        Extrinsic rotations about the RAS x, y and z axes, degrees;
        ``R = Rz @ Ry @ Rx``.
    translation_mm : (3,) array_like
        Translation, mm, applied after the rotation.
    center_mm : (3,) array_like, optional
        Centre of rotation (RAS mm); default the world origin. With a centre
        ``c`` the matrix is ``x -> R (x - c) + c + t``.

    Returns
    -------
    (4, 4) numpy.ndarray
    """
    rotation_deg = np.asarray(rotation_deg, dtype=float)
    translation_mm = np.asarray(translation_mm, dtype=float)
    if rotation_deg.shape != (3,) or translation_mm.shape != (3,):
        raise ValueError(
            "rotation_deg and translation_mm must have 3 elements each, not "
            f"{rotation_deg.tolist()!r} and {translation_mm.tolist()!r}"
        )
    rotation = Rotation.from_euler("xyz", rotation_deg, degrees=True).as_matrix()
    center = np.zeros(3) if center_mm is None else np.asarray(center_mm, dtype=float)
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = translation_mm + center - rotation @ center
    return matrix


def closest_rotation(linear: ArrayLike) -> np.ndarray:
    """The rotation matrix closest to a 3x3 linear map (polar decomposition).

    Parameters
    ----------
    linear : (3, 3) array_like
        The linear part of an affine, with positive determinant.

    Returns
    -------
    (3, 3) numpy.ndarray
        ``U @ Vt`` of the singular value decomposition ``linear = U S Vt``.
    """
    linear = np.asarray(linear, dtype=float)
    if linear.shape != (3, 3):
        raise ValueError(f"linear must be a 3x3 matrix, not shape {linear.shape}")
    if np.linalg.det(linear) <= 0:
        raise ValueError("linear must have a positive determinant (no reflection)")
    u, _, vt = np.linalg.svd(linear)
    return u @ vt


def euler_deg(matrix: ArrayLike) -> np.ndarray:
    """Extrinsic x-y-z Euler angles (degrees) of the rotation part of ``matrix``."""
    m = _as_matrix(matrix)
    return Rotation.from_matrix(closest_rotation(m[:3, :3])).as_euler("xyz", degrees=True)


def rotation_angle_deg(matrix: ArrayLike) -> float:
    """Total rotation angle (degrees, 0-180) of the rotation part of ``matrix``."""
    m = _as_matrix(matrix)
    return float(np.degrees(Rotation.from_matrix(closest_rotation(m[:3, :3])).magnitude()))


def transform_error(
    estimated: ArrayLike, true: ArrayLike, center_mm: ArrayLike
) -> tuple[float, float]:
    """Rotation and translation error of an estimated transform.

    Parameters
    ----------
    estimated, true : (4, 4) array_like
        Transforms in the same convention (e.g. both ``fixed_to_moving_world``).
    center_mm : (3,) array_like
        Point (RAS mm, in the source space of the transforms) where the
        displacement is measured, e.g. the centre of the brain.

    Returns
    -------
    rotation_deg : float
        Rotation angle of ``inv(estimated) @ true``, degrees.
    translation_mm : float
        ``|estimated @ c - true @ c|``, mm.
    """
    est = _as_matrix(estimated, "estimated")
    tru = _as_matrix(true, "true")
    center = np.asarray(center_mm, dtype=float)
    if center.shape != (3,):
        raise ValueError(f"center_mm must have 3 elements, not {center.tolist()!r}")
    residual = np.linalg.inv(est) @ tru
    point = np.append(center, 1.0)
    return rotation_angle_deg(residual), float(np.linalg.norm((est - tru) @ point))


def max_displacement(
    estimated: ArrayLike, true: ArrayLike, mask: np.ndarray, affine: ArrayLike
) -> float:
    """Largest distance (mm) between where two transforms send the voxels of a mask.

    Parameters
    ----------
    estimated, true : (4, 4) array_like
        Transforms in the same convention.
    mask : numpy.ndarray of bool, 3D
        Voxels over which the displacement is measured (e.g. the intracranial
        mask on the fixed grid).
    affine : (4, 4) array_like
        Voxel-to-world (RAS mm) affine of ``mask``.

    Returns
    -------
    float
        ``max |(estimated - true) @ x|`` over the centres ``x`` of the mask voxels.
    """
    est = _as_matrix(estimated, "estimated")
    tru = _as_matrix(true, "true")
    aff = _as_matrix(affine, "affine")
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 3 or not mask.any():
        raise ValueError(f"mask must be a non-empty 3D mask, not shape {mask.shape} with no voxel")
    voxels = np.vstack([np.argwhere(mask).T, np.ones(int(mask.sum()))])
    difference = (est - tru) @ aff @ voxels
    return float(np.sqrt((difference[:3] ** 2).sum(axis=0)).max())


@dataclass(frozen=True)
class WorldTransform:
    """A registration result in the synflair convention (see module docstring).

    Attributes
    ----------
    fixed_to_moving_world : (4, 4) numpy.ndarray
        ``M`` with ``x_moving = M @ x_fixed`` (RAS mm).
    backend : str
        ``"fsl"`` or ``"ants"``.
    dof : int
        6 (rigid) or 12 (affine).
    details : dict
        Extra, JSON-serialisable information (file names, backend settings).
    """

    fixed_to_moving_world: np.ndarray
    backend: str
    dof: int
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        matrix = _as_matrix(self.fixed_to_moving_world, "fixed_to_moving_world")
        matrix.setflags(write=False)
        object.__setattr__(self, "fixed_to_moving_world", matrix)
        if self.backend not in ("fsl", "ants"):
            raise ValueError(f"backend must be 'fsl' or 'ants', not {self.backend!r}")
        if self.dof not in DOFS:
            raise ValueError(f"dof must be one of {DOFS}, not {self.dof!r}")

    @property
    def moving_to_fixed_world(self) -> np.ndarray:
        """The inverse transform, ``x_fixed = inv(M) @ x_moving``."""
        return np.linalg.inv(self.fixed_to_moving_world)

    def to_json(self) -> dict:
        """The JSON document: matrix, backend, dof, Euler angles and translation."""
        matrix = self.fixed_to_moving_world
        return {
            "fixed_to_moving_world": matrix.tolist(),
            "backend": self.backend,
            "dof": self.dof,
            "rotation_deg": euler_deg(matrix).tolist(),
            "translation_mm": matrix[:3, 3].tolist(),
            "rotation_angle_deg": rotation_angle_deg(matrix),
            "convention": CONVENTION,
            **self.details,
        }

    def write(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_json` atomically to ``path``."""
        return write_json(path, self.to_json())


def read_transform(path: str | os.PathLike, key: str = "fixed_to_moving_world") -> np.ndarray:
    """Read a 4x4 world matrix from a JSON file.

    Parameters
    ----------
    path : path-like
        A transform JSON written by :meth:`WorldTransform.write`, or the
        phantom's ``sub-<id>_motion.json``.
    key : str
        The key that holds the matrix (``"flair_from_mdme"`` for the phantom).

    Returns
    -------
    (4, 4) numpy.ndarray
    """
    path = Path(path)
    if not path.is_file():
        raise SynflairError(f"{path}: no such file (expected a transform JSON)")
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SynflairError(f"{path}: not a readable JSON file ({error})") from error
    if not isinstance(document, dict) or key not in document:
        raise SynflairError(f"{path}: expected a JSON object with key {key!r}")
    try:
        return _as_matrix(document[key], key)
    except (TypeError, ValueError) as error:
        raise SynflairError(f"{path}: {error}") from error


def resample_world(
    data: ArrayLike,
    moving_affine: ArrayLike,
    fixed_shape: tuple[int, ...],
    fixed_affine: ArrayLike,
    fixed_to_moving_world: ArrayLike,
    *,
    order: int = 1,
) -> np.ndarray:
    """Resample a moving-space array onto a fixed grid with a known world transform.

    For a known transform (e.g. the phantom's true head motion) this is what
    :func:`synflair.registration.apply_transform` does with FLIRT or ANTs, in
    scipy: every fixed voxel samples the moving image at ``M @ x_fixed``.

    Parameters
    ----------
    data : array_like, 3D
        Moving-space values.
    moving_affine, fixed_affine : (4, 4) array_like
        Voxel-to-RAS affines of the moving and the fixed grids.
    fixed_shape : tuple of int
        Shape of the fixed grid.
    fixed_to_moving_world : (4, 4) array_like
        ``M`` of the module's convention.
    order : int
        Spline order of :func:`scipy.ndimage.affine_transform` (1: linear, 0: nearest).

    Returns
    -------
    numpy.ndarray of float64, ``fixed_shape``
        Zero where the fixed voxel maps outside the moving grid.
    """
    from scipy import ndimage

    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 3:
        raise SynflairError(f"resample_world needs a 3D array, not shape {data.shape}")
    matrix = _as_matrix(fixed_to_moving_world, "fixed_to_moving_world")
    voxel_map = (
        np.linalg.inv(_as_matrix(moving_affine, "moving_affine"))
        @ matrix
        @ _as_matrix(fixed_affine, "fixed_affine")
    )
    return ndimage.affine_transform(
        data, voxel_map, output_shape=tuple(fixed_shape), order=order, mode="constant", cval=0.0
    )
