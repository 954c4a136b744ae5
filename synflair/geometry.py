"""DICOM patient geometry <-> NIfTI voxel-to-world affines.

DICOM describes each slice in the patient coordinate system LPS (x to the
patient's left, y posterior, z superior) with ImagePositionPatient (the centre
of the first transmitted pixel), ImageOrientationPatient (row and column
direction cosines) and PixelSpacing (row spacing, column spacing). NIfTI uses
RAS. The synflair convention for a slice stack, shared by the phantom writer
and the MDME importer, is::

    data[i, j, k] = pixel_array_of_slice_k[j, i]   (i: column, j: row)

so ``i`` runs along the row direction cosine, ``j`` along the column direction
cosine and ``k`` along the slice normal, ordered by position on that normal.
"""

from __future__ import annotations

import numpy as np

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def slice_normal(orientation) -> np.ndarray:
    """Unit normal (LPS) of a slice with ImageOrientationPatient ``orientation``."""
    orientation = np.asarray(orientation, dtype=float)
    if orientation.shape != (6,):
        raise ValueError(f"orientation must have 6 direction cosines, not {orientation!r}")
    normal = np.cross(orientation[:3], orientation[3:])
    return normal / np.linalg.norm(normal)


def stack_affine(first_position, orientation, pixel_spacing, slice_step: float) -> np.ndarray:
    """RAS affine of a slice stack.

    Parameters
    ----------
    first_position : (3,) array_like
        ImagePositionPatient (LPS, mm) of the first slice (k = 0).
    orientation : (6,) array_like
        ImageOrientationPatient, row then column direction cosines.
    pixel_spacing : (2,) array_like
        PixelSpacing: (row spacing = distance between rows, column spacing), mm.
    slice_step : float
        Signed distance (mm) between consecutive slice centres along the slice
        normal (slice thickness plus gap for a 2D acquisition with a gap).

    Returns
    -------
    (4, 4) numpy.ndarray
        Voxel (i, j, k) to RAS world (mm).
    """
    orientation = np.asarray(orientation, dtype=float)
    row_cosine, column_cosine = orientation[:3], orientation[3:]
    row_spacing, column_spacing = (float(v) for v in pixel_spacing)
    lps = np.eye(4)
    lps[:3, 0] = row_cosine * column_spacing
    lps[:3, 1] = column_cosine * row_spacing
    lps[:3, 2] = slice_normal(orientation) * slice_step
    lps[:3, 3] = np.asarray(first_position, dtype=float)
    return LPS_TO_RAS @ lps


def slice_positions(affine: np.ndarray, n_slices: int) -> np.ndarray:
    """ImagePositionPatient (LPS, mm) of each slice of a stack with RAS ``affine``.

    Returns
    -------
    numpy.ndarray, shape (n_slices, 3)
    """
    lps = np.linalg.inv(LPS_TO_RAS) @ np.asarray(affine, dtype=float)
    k = np.arange(n_slices)
    return lps[:3, 3][None, :] + k[:, None] * lps[:3, 2][None, :]


def orientation_of(affine: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """ImageOrientationPatient, PixelSpacing and slice step of a RAS stack ``affine``.

    Inverse of :func:`stack_affine` for affines with orthogonal in-plane axes.
    """
    lps = np.linalg.inv(LPS_TO_RAS) @ np.asarray(affine, dtype=float)
    column_spacing = np.linalg.norm(lps[:3, 0])
    row_spacing = np.linalg.norm(lps[:3, 1])
    row_cosine = lps[:3, 0] / column_spacing
    column_cosine = lps[:3, 1] / row_spacing
    orientation = np.concatenate([row_cosine, column_cosine])
    step = float(np.dot(lps[:3, 2], slice_normal(orientation)))
    return orientation, np.array([row_spacing, column_spacing]), step
