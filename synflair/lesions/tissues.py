"""GM/WM/CSF probabilities for ``synflair lesions`` when no maps are given.

The T1 (a T1w image or an R1 map: both are brightest in WM) is segmented by
the project's segmentation step (:func:`synflair.segmentation.segment`, ANTs
Atropos or FSL FAST) inside the brain mask, in a temporary directory.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

from synflair.nifti import load_data, save

__all__ = ["segment_tissues"]


def segment_tissues(
    t1: str | os.PathLike, mask: np.ndarray, image: nib.Nifti1Image, *, backend: str = "auto"
) -> dict[str, np.ndarray]:
    """Tissue probabilities of ``t1`` inside ``mask``.

    Parameters
    ----------
    t1 : path-like
        T1w or R1 NIfTI on the grid of ``image``.
    mask : numpy.ndarray of bool
        Brain mask on that grid.
    image : nibabel.Nifti1Image
        The grid (affine, header) for the temporary mask file.
    backend : {"auto", "ants", "fsl"}

    Returns
    -------
    dict
        ``"gm"``, ``"wm"``, ``"csf"`` -> probability arrays.
    """
    from synflair.segmentation import segment

    with tempfile.TemporaryDirectory(prefix="synflair-lesions-") as work:
        work = Path(work)
        mask_file = save(mask.astype(np.uint8), image.affine, work / "mask.nii.gz",
                         dtype=np.uint8)  # fmt: skip
        result = segment(t1, mask_file, work / "seg", "t1", backend=backend)
        return {name.lower(): load_data(path, ndim=3)[0] for name, path in result.probseg.items()}
