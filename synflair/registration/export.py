"""The registration in the formats lab tools read: an ITK transform file and a FLIRT matrix.

Next to synflair's JSON (``fixed_to_moving_world``, RAS mm), :func:`register`
writes the same transform as

* an ITK text transform (``#Insight Transform File V1.0``,
  ``AffineTransform_double_3_3``): LPS coordinates, mapping fixed points to
  moving points, which is what ``antsApplyTransforms -r FIXED -i MOVING -t XFM``
  and ``ants.apply_transforms(fixed, moving, [XFM])`` expect;
* a FLIRT matrix (4 x 4 text, FSL's scaled-voxel coordinates of moving and
  fixed), which is what ``flirt -in MOVING -ref FIXED -applyxfm -init XFM``
  expects; converted with fslpy (:func:`synflair.registration.fsl.world_to_flirt`),
  so no FSL installation is needed to write it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from synflair.atomic import atomic_output
from synflair.registration.ants import itk_to_world, world_to_itk
from synflair.registration.fsl import world_to_flirt

__all__ = ["read_itk", "write_flirt", "write_itk"]

ITK_TYPE = "AffineTransform_double_3_3"


def itk_text(fixed_to_moving_world: np.ndarray) -> str:
    """The ITK text transform file of a synflair ``fixed_to_moving_world`` matrix."""
    parameters, fixed_parameters = world_to_itk(fixed_to_moving_world)
    return (
        "#Insight Transform File V1.0\n"
        "#Transform 0\n"
        f"Transform: {ITK_TYPE}\n"
        f"Parameters: {' '.join(repr(float(p)) for p in parameters)}\n"
        f"FixedParameters: {' '.join(repr(float(p)) for p in fixed_parameters)}\n"
    )


def write_itk(fixed_to_moving_world: np.ndarray, path: str | os.PathLike) -> Path:
    """Write the transform as an ITK text file (``.txt``), atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(itk_text(fixed_to_moving_world))
    return Path(path)


def read_itk(path: str | os.PathLike) -> np.ndarray:
    """Read an ITK affine text file back as ``fixed_to_moving_world`` (RAS mm)."""
    fields = {}
    for line in Path(path).read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            key, value = line.split(":", 1)
            fields[key.strip()] = value.split()
    if fields.get("Transform", [None])[0] != ITK_TYPE:
        raise ValueError(f"{path}: expected a {ITK_TYPE}")
    return itk_to_world(
        [float(v) for v in fields["Parameters"]], [float(v) for v in fields["FixedParameters"]]
    )


def write_flirt(
    fixed_to_moving_world: np.ndarray,
    moving: str | os.PathLike,
    fixed: str | os.PathLike,
    path: str | os.PathLike,
) -> Path:
    """Write the FLIRT matrix of ``flirt -in moving -ref fixed`` (``.mat``), atomically."""
    matrix = world_to_flirt(fixed_to_moving_world, moving, fixed)
    with atomic_output(path) as tmp:
        np.savetxt(tmp, matrix, fmt="%.10f")
    return Path(path)
