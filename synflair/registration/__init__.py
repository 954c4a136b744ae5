"""Registration of conventional FLAIR to synthetic FLAIR space (FSL FLIRT or ANTs).

The public API: :func:`register`, :func:`apply_transform`, the transform
convention and error measures of :mod:`synflair.registration.transform`, and
backend selection in :mod:`synflair.registration.backend`. Heavy tools
(nipype, fslpy, antspyx) are imported only when a step runs.
"""

from synflair.registration.api import apply_transform, choose_interpolation, register
from synflair.registration.transform import (
    WorldTransform,
    max_displacement,
    read_transform,
    rigid_matrix,
    transform_error,
)

__all__ = [
    "WorldTransform",
    "apply_transform",
    "choose_interpolation",
    "max_displacement",
    "read_transform",
    "register",
    "rigid_matrix",
    "transform_error",
]
