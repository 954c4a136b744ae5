"""Write a converted image and its JSON sidecar: both or neither, and no identifier in either.

The converters (:mod:`synflair.io.mdme`, :mod:`synflair.io.dcm2niix`) end with this step.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from synflair import nifti
from synflair.atomic import write_json
from synflair.io.anonymize import check_no_identifiers

__all__ = ["publish_image"]


def publish_image(
    data: np.ndarray,
    affine: np.ndarray,
    out_nii: Path,
    out_json: Path,
    sidecar: dict,
    identifiers: Iterable[str],
    *,
    dtype=np.float32,
) -> None:
    """Write ``data`` to ``out_nii`` and ``sidecar`` to ``out_json``, then check both files.

    Parameters
    ----------
    data : numpy.ndarray
    affine : (4, 4) numpy.ndarray
    out_nii, out_json : pathlib.Path
    sidecar : dict
        The JSON object (already scrubbed of identifying keys).
    identifiers : iterable of str
        Values of the source's identifying attributes; none may occur in the outputs
        (:func:`synflair.io.anonymize.check_no_identifiers`).
    dtype : numpy dtype
        Of the NIfTI data.

    Raises
    ------
    SynflairError
        If an identifier is found; on this or any other failure neither file is left.
    """
    identifiers = list(identifiers)
    try:
        nifti.save(data, affine, out_nii, dtype=dtype)
        write_json(out_json, sidecar)
        check_no_identifiers([out_nii], identifiers, header_only=True)
        check_no_identifiers([out_json], identifiers)
    except BaseException:
        for path in (out_nii, out_json):
            Path(path).unlink(missing_ok=True)
        raise
