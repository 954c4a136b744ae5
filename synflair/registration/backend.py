"""Which tool runs registration and tissue segmentation: ``fsl``, ``ants`` or ``auto``.

``fsl`` (FLIRT, FAST through nipype) needs an FSL installation in ``$FSLDIR``;
``ants`` (antspyx) installs from PyPI and is always available. ``auto`` picks
FSL where it is installed, else ANTs. FSL is detected once per process, the
way nipype does it (``nipype.interfaces.fsl.Info.version()`` reads
``$FSLDIR/etc/fslversion``), plus a check that the needed executable exists.
A missing tool is reported when a step runs, never at import.
"""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synflair.errors import SynflairError

__all__ = [
    "BACKENDS",
    "Estimation",
    "Resampling",
    "fsl_tool",
    "fsl_version",
    "require_fsl",
    "resolve_backend",
    "resolve_settings",
]

#: Accepted values of ``--backend``.
BACKENDS = ("auto", "fsl", "ants")


@dataclass(frozen=True)
class Estimation:
    """What a backend's ``estimate(job, settings)`` registers; it returns ``fixed_to_moving_world``.

    Attributes
    ----------
    moving, fixed : path-like
        NIfTI images.
    dof : {6, 12}
        Rigid or affine.
    workdir : path-like
        Scratch directory of the tool.
    fixed_mask : path-like, optional
        Restricts the similarity metric to a region on the fixed grid.
    """

    moving: str | os.PathLike
    fixed: str | os.PathLike
    dof: int
    workdir: str | os.PathLike
    fixed_mask: str | os.PathLike | None = None


@dataclass(frozen=True)
class Resampling:
    """What a backend's ``resample(job)`` does: ``moving`` onto the grid of ``fixed``.

    It returns the resampled data (float) in the voxel order of ``fixed``, 0 outside the
    moving field of view.

    Attributes
    ----------
    moving, fixed : path-like
        NIfTI images.
    fixed_to_moving_world : (4, 4) numpy.ndarray
        The registration (RAS mm).
    interpolation : str
        One of the backend's interpolations.
    workdir : path-like
        Scratch directory of the tool.
    """

    moving: str | os.PathLike
    fixed: str | os.PathLike
    fixed_to_moving_world: np.ndarray
    interpolation: str
    workdir: str | os.PathLike


@functools.cache
def fsl_version() -> str | None:
    """FSL version string, or ``None`` when ``$FSLDIR`` holds no FSL installation.

    Cached: FSL is detected once per process.
    """
    if not os.environ.get("FSLDIR"):
        return None
    from nipype.interfaces.fsl import Info

    return Info.version()


def fsl_tool(name: str) -> Path | None:
    """Path of the FSL executable ``name`` (``$FSLDIR/bin`` first, then ``PATH``)."""
    fsldir = os.environ.get("FSLDIR")
    if fsldir:
        candidate = Path(fsldir) / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def require_fsl(*tools: str) -> str:
    """Return the FSL version, or raise a SynflairError naming what is missing.

    Parameters
    ----------
    *tools : str
        Executables that must exist (e.g. ``"flirt"``, ``"fast"``).
    """
    version = fsl_version()
    if version is None:
        raise SynflairError(
            "backend 'fsl' needs an FSL installation: $FSLDIR is not set or holds no FSL "
            "(no $FSLDIR/etc/fslversion); install FSL or use --backend ants"
        )
    missing = [tool for tool in tools if fsl_tool(tool) is None]
    if missing:
        raise SynflairError(
            f"backend 'fsl': FSL {version} found in $FSLDIR={os.environ.get('FSLDIR')} but "
            f"the executable(s) {', '.join(missing)} are not in $FSLDIR/bin or on PATH"
        )
    return version


def resolve_backend(name: str, tools: tuple[str, ...] = ()) -> str:
    """Turn ``auto`` into ``fsl`` or ``ants`` and check that the tool is there.

    Parameters
    ----------
    name : {"auto", "fsl", "ants"}
    tools : tuple of str
        FSL executables the step needs; ``auto`` picks FSL only if all exist.

    Returns
    -------
    str
        ``"fsl"`` or ``"ants"``.
    """
    if name not in BACKENDS:
        raise SynflairError(f"backend must be one of {', '.join(BACKENDS)}, not {name!r}")
    if name == "auto":
        has_fsl = fsl_version() is not None and all(fsl_tool(tool) for tool in tools)
        return "fsl" if has_fsl else "ants"
    if name == "fsl":
        require_fsl(*tools)
    return name


def resolve_settings(backend: str, tools: tuple[str, ...], settings, fsl: type, ants: type):
    """The backend that runs (:func:`resolve_backend`) and its settings.

    Parameters
    ----------
    backend : {"auto", "fsl", "ants"}
    tools : tuple of str
        FSL executables the step needs.
    settings : object or None
        The caller's settings; None: the default of the backend that runs.
    fsl, ants : type
        The settings class of each backend.

    Returns
    -------
    name : {"fsl", "ants"}
    settings : fsl or ants instance

    Raises
    ------
    SynflairError
        If ``settings`` belong to the other backend.
    """
    name = resolve_backend(backend, tools)
    expected = fsl if name == "fsl" else ants
    settings = expected() if settings is None else settings
    if not isinstance(settings, expected):
        raise SynflairError(
            f"backend {name!r} needs settings of type {expected.__name__}, "
            f"not {type(settings).__name__}"
        )
    return name, settings
