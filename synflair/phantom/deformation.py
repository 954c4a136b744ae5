"""Where each scanner point of a subject's head comes from in the template.

A subject's head is the template seen through a smooth random deformation and
placed in the scanner with a head pose (rotation, translation and scale). The
conventional FLAIR sees the same head after a small rigid motion. All maps go
from the scanner to the template, so that images are made by sampling the
template and no inverse transform is ever needed::

    y_template = D(P^-1 M^-1 x_scanner)

with ``P`` the pose (template -> scanner, 4x4), ``M`` the motion between the
MDME and FLAIR series (scanner -> scanner, identity for the MDME) and
``D(z) = z + u(z)`` the smooth deformation. The scanner world frame is the
template's RAS frame, so a subject in the identity pose sits where the MNI
template does; rotations and scaling act about the head centre
:data:`HEAD_CENTER_MNI`.

Rotation convention: ``R = Rz(gamma) @ Ry(beta) @ Rx(alpha)``, angles
``(alpha, beta, gamma)`` in degrees about the RAS x, y and z axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "HEAD_CENTER_MNI",
    "Deformation",
    "Pose",
    "draw_deformation",
    "draw_motion",
    "draw_pose",
    "rigid_matrix",
    "rotation_matrix",
]

#: Centre of rotation of the head, MNI RAS mm (near the centre of the brain).
HEAD_CENTER_MNI = np.array([0.0, -18.0, 10.0])


def rotation_matrix(angles_deg) -> np.ndarray:
    """``Rz @ Ry @ Rx`` for angles ``(alpha, beta, gamma)`` in degrees about RAS x, y, z."""
    a, b, c = np.deg2rad(np.asarray(angles_deg, dtype=float))
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def rigid_matrix(rotation_deg, translation_mm, center=HEAD_CENTER_MNI, scale=(1.0, 1.0, 1.0)):
    """4x4 map ``x -> center + translation + R S (x - center)`` (RAS mm).

    Parameters
    ----------
    rotation_deg : (3,) array_like
        Angles about RAS x, y, z, degrees (see :func:`rotation_matrix`).
    translation_mm : (3,) array_like
        Displacement of the centre, mm.
    center : (3,) array_like
        Centre of rotation and scaling, mm.
    scale : (3,) array_like
        Scale factors along x, y, z, applied before the rotation.
    """
    center = np.asarray(center, dtype=float)
    matrix = np.eye(4)
    matrix[:3, :3] = rotation_matrix(rotation_deg) @ np.diag(np.asarray(scale, dtype=float))
    matrix[:3, 3] = center + np.asarray(translation_mm, dtype=float) - matrix[:3, :3] @ center
    return matrix


@dataclass(frozen=True)
class Pose:
    """A rigid motion with scaling (a head pose, or a head motion when scale is 1).

    Attributes
    ----------
    rotation_deg : (float, float, float)
        About RAS x, y, z.
    translation_mm : (float, float, float)
    scale : (float, float, float)
    """

    rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    translation_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __post_init__(self):
        for name in ("rotation_deg", "translation_mm", "scale"):
            value = tuple(float(v) for v in getattr(self, name))
            if len(value) != 3 or not np.all(np.isfinite(value)):
                raise ValueError(f"{name} must be 3 finite numbers, not {getattr(self, name)!r}")
            object.__setattr__(self, name, value)
        if min(self.scale) <= 0:
            raise ValueError(f"scale must be positive, not {self.scale!r}")

    def matrix(self, center=HEAD_CENTER_MNI) -> np.ndarray:
        """The 4x4 RAS matrix of this pose about ``center``."""
        return rigid_matrix(self.rotation_deg, self.translation_mm, center, self.scale)


def draw_pose(rng: np.random.Generator, rotation_deg, translation_mm, scale_range) -> Pose:
    """Draw a head pose: uniform angles and shifts within +-the half-ranges, a head scale.

    The global scale is uniform in ``scale_range``; each axis varies a further +-3 %.
    """
    rotation = rng.uniform(-1, 1, 3) * np.asarray(rotation_deg, dtype=float)
    translation = rng.uniform(-1, 1, 3) * np.asarray(translation_mm, dtype=float)
    scale = rng.uniform(*scale_range) * rng.uniform(0.97, 1.03, 3)
    return Pose(tuple(rotation), tuple(translation), tuple(scale))


def draw_motion(rng: np.random.Generator, max_rotation_deg: float, max_translation_mm: float):
    """Draw a small rigid head motion: each angle and shift uniform within +-the maximum."""
    rotation = rng.uniform(-1, 1, 3) * float(max_rotation_deg)
    translation = rng.uniform(-1, 1, 3) * float(max_translation_mm)
    return Pose(tuple(rotation), tuple(translation))


@dataclass(frozen=True, eq=False)
class Deformation:
    """A smooth displacement field ``u`` on a coarse grid in template (MNI) space.

    Attributes
    ----------
    field : numpy.ndarray of float32, shape (3, nx, ny, nz)
        Displacement (mm) along RAS x, y, z at the grid nodes.
    affine : numpy.ndarray, shape (4, 4)
        Grid node index to MNI RAS mm.
    """

    field: np.ndarray
    affine: np.ndarray

    def __post_init__(self):
        if np.ndim(self.field) != 4 or np.shape(self.field)[0] != 3:
            raise ValueError(f"field must have shape (3, nx, ny, nz), not {np.shape(self.field)}")

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Deformed points ``z + u(z)`` for ``points`` of shape (3, n) (MNI mm)."""
        from synflair.phantom.sampling import sample_maps

        points = np.asarray(points, dtype=np.float32)
        inverse = np.linalg.inv(self.affine).astype(np.float32)
        index = inverse[:3, :3] @ points + inverse[:3, 3:4]
        return points + sample_maps(list(self.field), index)


def draw_deformation(
    rng: np.random.Generator,
    template_affine: np.ndarray,
    template_shape,
    sigma_mm: float,
    smoothness_mm: float,
    spacing_mm: float = 4.0,
) -> Deformation:
    """Draw a smooth random deformation covering a template grid.

    White Gaussian noise on a grid of ``spacing_mm`` is smoothed with a Gaussian of
    standard deviation ``smoothness_mm`` and rescaled so that each component has
    standard deviation ``sigma_mm`` over the grid.

    Parameters
    ----------
    rng : numpy.random.Generator
    template_affine : (4, 4) array_like
        Voxel to MNI mm of the template grid.
    template_shape : (3,) tuple of int
    sigma_mm, smoothness_mm : float
    spacing_mm : float
        Node spacing of the field (the field is interpolated linearly between nodes).

    Returns
    -------
    Deformation
    """
    from scipy import ndimage

    if sigma_mm < 0 or smoothness_mm <= 0 or spacing_mm <= 0:
        raise ValueError(
            "sigma_mm must be >= 0 and smoothness_mm, spacing_mm > 0, not "
            f"{(sigma_mm, smoothness_mm, spacing_mm)!r}"
        )
    template_affine = np.asarray(template_affine, dtype=float)
    last = np.asarray(template_shape, dtype=float) - 1
    corners = np.array(
        [[i, j, k] for i in (0, last[0]) for j in (0, last[1]) for k in (0, last[2])]
    )
    world = corners @ template_affine[:3, :3].T + template_affine[:3, 3]
    corner = world.min(axis=0)
    extent = world.max(axis=0) - corner
    shape = tuple(int(np.ceil(e / spacing_mm)) + 1 for e in extent)
    noise = rng.standard_normal((3, *shape)).astype(np.float32)
    field = np.empty_like(noise)
    for axis in range(3):
        smooth = ndimage.gaussian_filter(noise[axis], smoothness_mm / spacing_mm, mode="reflect")
        std = float(smooth.std())
        field[axis] = smooth * (sigma_mm / std if std > 0 else 0.0)
    affine = np.eye(4)
    affine[:3, :3] = np.diag([spacing_mm] * 3)
    affine[:3, 3] = corner
    return Deformation(field=field, affine=affine)
