"""Externally supplied lesion masks (e.g. manually corrected) that replace the automatic one.

The paper's lesion maps were "manually corrected by an experienced
neuroradiologist"; synflair accepts such a mask per subject. It must lie on
the grid of the FLAIR it replaces the segmentation of, and may be empty (a
subject without lesions).
"""

from __future__ import annotations

import os

import nibabel as nib
import numpy as np

from synflair.errors import SynflairError
from synflair.nifti import load_mask

#: Values of the ``source`` that :func:`apply_override` reports.
SOURCES = ("automatic", "override")


def load_override(
    path: str | os.PathLike,
    reference: nib.Nifti1Image,
    reference_path: str | os.PathLike,
) -> np.ndarray:
    """Load a lesion mask that overrides the automatic segmentation.

    Parameters
    ----------
    path : path-like
        NIfTI mask (voxels > 0.5 are lesion).
    reference : nibabel.Nifti1Image
        The FLAIR the mask belongs to; the mask must share its grid (shape and affine).
    reference_path : path-like
        Named in error messages.

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    SynflairError
        Naming the file when it is missing, unreadable, not 3D or on another grid.
    """
    return load_mask(path, reference=reference, reference_path=reference_path, allow_empty=True)


def apply_override(automatic: np.ndarray, override: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The lesion mask to use: ``override`` when given, else ``automatic``.

    Parameters
    ----------
    automatic : numpy.ndarray of bool
        The segmentation of :func:`synflair.lesions.segment_lesions`.
    override : numpy.ndarray of bool or None
        A supplied mask of the same shape.

    Returns
    -------
    mask : numpy.ndarray of bool
    source : {"automatic", "override"}
    """
    automatic = np.asarray(automatic, dtype=bool)
    if override is None:
        return automatic, "automatic"
    override = np.asarray(override)
    if override.shape != automatic.shape:
        raise SynflairError(
            f"override lesion mask has shape {override.shape}, expected {automatic.shape}"
        )
    return override.astype(bool), "override"
