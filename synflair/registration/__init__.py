"""Registration of conventional FLAIR to synthetic FLAIR space (FSL FLIRT or ANTs).

The public API: :func:`register`, :func:`apply_transform`, the transform
convention and error measures of :mod:`synflair.registration.transform`, and
backend selection in :mod:`synflair.registration.backend`. Heavy tools
(nipype, fslpy, antspyx) are imported only when a step runs.
"""

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

#: Names served lazily from :mod:`synflair.registration.api`, so that importing the
#: transform convention (as the lesion and validation code do) does not import the
#: registration backends.
_API = ("apply_transform", "choose_interpolation", "register")


def __getattr__(name: str):
    if name in _API:
        from synflair.registration import api

        return getattr(api, name)
    raise AttributeError(f"module 'synflair.registration' has no attribute {name!r}")
