"""The ``fsl`` registration backend: FLIRT through nipype, fslpy for the matrix conventions.

FLIRT estimates (``nipype.interfaces.fsl.FLIRT``) and resamples
(``nipype.interfaces.fsl.ApplyXFM``, i.e. ``flirt -applyxfm -init``). A FLIRT
matrix maps FSL *scaled-voxel* coordinates of the input (moving) image to those
of the reference (fixed) image, with the x axis flipped for images with a
positive-determinant voxel-to-world affine. fslpy's
:func:`fsl.transform.flirt.fromFlirt` / :func:`~fsl.transform.flirt.toFlirt`
convert between that and the world (RAS mm) affine ``W`` with
``x_fixed = W @ x_moving``; synflair's ``fixed_to_moving_world`` is ``inv(W)``.

References
----------
.. [1] Jenkinson M, Smith S. A global optimisation method for robust affine
   registration of brain images. Med Image Anal 2001;5:143-156 (FLIRT).
.. [2] Jenkinson M, Beckmann CF, Behrens TE, et al. FSL. Neuroimage
   2012;62:782-790.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synflair.errors import SynflairError
from synflair.registration.backend import Estimation, Resampling, require_fsl

__all__ = [
    "FLIRT_COSTS",
    "FLIRT_INTERPOLATION",
    "FlirtSettings",
    "applyxfm_interface",
    "estimate",
    "flirt_interface",
    "flirt_to_world",
    "resample",
    "world_to_flirt",
]

#: FLIRT cost functions (``-cost``).
FLIRT_COSTS = ("mutualinfo", "corratio", "normcorr", "normmi", "leastsq", "labeldiff", "bbr")
#: synflair interpolation name -> FLIRT ``-interp``.
FLIRT_INTERPOLATION = {"linear": "trilinear", "nearest": "nearestneighbour", "spline": "spline"}


@dataclass(frozen=True)
class FlirtSettings:
    """FLIRT options for estimating the transform.

    Attributes
    ----------
    cost : str
        ``-cost``; FLIRT's default correlation ratio suits intra-subject FLAIR
        to FLAIR with different contrast weighting. ``normmi`` is the usual
        alternative.
    bins : int
        ``-bins``, histogram bins of the cost function.
    search_deg : int
        ``-searchr{x,y,z} -s s``: angular search range, whole degrees
        (FLIRT's default 90; head motion in one session is a few degrees).
    """

    cost: str = "corratio"
    bins: int = 256
    search_deg: int = 90

    def __post_init__(self):
        if self.cost not in FLIRT_COSTS:
            raise ValueError(f"cost must be one of {FLIRT_COSTS}, not {self.cost!r}")
        if int(self.bins) != self.bins or self.bins < 2:
            raise ValueError(f"bins must be an integer >= 2, not {self.bins!r}")
        if int(self.search_deg) != self.search_deg or not 0 <= self.search_deg <= 180:
            raise ValueError(
                f"search_deg must be whole degrees within 0-180, not {self.search_deg!r}"
            )


def _interfaces():
    """Import nipype's FSL interfaces; FLIRT's output type is fixed to NIFTI_GZ."""
    os.environ.setdefault("FSLOUTPUTTYPE", "NIFTI_GZ")
    from nipype.interfaces import fsl

    return fsl


def flirt_interface(
    moving: str | os.PathLike,
    fixed: str | os.PathLike,
    out_matrix: str | os.PathLike,
    out_file: str | os.PathLike,
    *,
    dof: int = 6,
    settings: FlirtSettings = FlirtSettings(),
    fixed_weight: str | os.PathLike | None = None,
):
    """The nipype ``FLIRT`` interface that estimates moving -> fixed.

    Parameters
    ----------
    moving, fixed : path-like
        ``-in`` and ``-ref`` images.
    out_matrix : path-like
        ``-omat``: the FLIRT matrix written by the run.
    out_file : path-like
        ``-out``: FLIRT's own resampled image (trilinear).
    dof : {6, 12}
        ``-dof``.
    settings : FlirtSettings
    fixed_weight : path-like, optional
        ``-refweight``: a weighting (mask) image on the fixed grid.

    Returns
    -------
    nipype.interfaces.fsl.FLIRT
        Its ``.cmdline`` is the exact command; ``.run()`` executes it.
    """
    fsl = _interfaces()
    search = [-int(settings.search_deg), int(settings.search_deg)]
    interface = fsl.FLIRT(
        in_file=str(moving),
        reference=str(fixed),
        out_matrix_file=str(out_matrix),
        out_file=str(out_file),
        dof=int(dof),
        cost=settings.cost,
        bins=int(settings.bins),
        searchr_x=search,
        searchr_y=search,
        searchr_z=search,
        interp="trilinear",
        output_type="NIFTI_GZ",
    )
    if fixed_weight is not None:
        interface.inputs.ref_weight = str(fixed_weight)
    return interface


def applyxfm_interface(
    moving: str | os.PathLike,
    fixed: str | os.PathLike,
    matrix: str | os.PathLike,
    out_file: str | os.PathLike,
    *,
    interpolation: str = "linear",
):
    """The nipype ``ApplyXFM`` interface that resamples ``moving`` onto ``fixed``'s grid.

    Parameters
    ----------
    moving, fixed : path-like
    matrix : path-like
        FLIRT matrix (``-init``).
    out_file : path-like
        ``-out``. The (unchanged) matrix FLIRT writes with ``-omat`` goes next
        to it, named like it with the extension ``.mat``.
    interpolation : {"linear", "nearest", "spline"}

    Returns
    -------
    nipype.interfaces.fsl.ApplyXFM
    """
    if interpolation not in FLIRT_INTERPOLATION:
        raise ValueError(
            f"interpolation must be one of {tuple(FLIRT_INTERPOLATION)}, not {interpolation!r}"
        )
    fsl = _interfaces()
    return fsl.ApplyXFM(
        in_file=str(moving),
        reference=str(fixed),
        in_matrix_file=str(matrix),
        apply_xfm=True,
        out_file=str(out_file),
        out_matrix_file=str(Path(out_file).parent / (Path(out_file).name.split(".")[0] + ".mat")),
        interp=FLIRT_INTERPOLATION[interpolation],
        output_type="NIFTI_GZ",
    )


def _fslpy_image(path: str | os.PathLike):
    from fsl.data.image import Image

    return Image(str(path))


def flirt_to_world(
    flirt_matrix: np.ndarray, moving: str | os.PathLike, fixed: str | os.PathLike
) -> np.ndarray:
    """Convert a FLIRT matrix (moving -> fixed) to synflair's ``fixed_to_moving_world``.

    Parameters
    ----------
    flirt_matrix : (4, 4) numpy.ndarray
        The ``-omat`` matrix of ``flirt -in moving -ref fixed``.
    moving, fixed : path-like
        The images the matrix belongs to (their voxel sizes and orientation
        define FSL coordinates).

    Returns
    -------
    (4, 4) numpy.ndarray
        ``M`` with ``x_moving = M @ x_fixed`` (RAS mm).
    """
    from fsl.transform.flirt import fromFlirt

    world = fromFlirt(
        np.asarray(flirt_matrix, dtype=float),
        _fslpy_image(moving),
        _fslpy_image(fixed),
        from_="world",
        to="world",
    )
    return np.linalg.inv(world)


def world_to_flirt(
    fixed_to_moving_world: np.ndarray, moving: str | os.PathLike, fixed: str | os.PathLike
) -> np.ndarray:
    """Inverse of :func:`flirt_to_world`: the FLIRT matrix for ``flirt -in moving -ref fixed``."""
    from fsl.transform.flirt import toFlirt

    world = np.linalg.inv(np.asarray(fixed_to_moving_world, dtype=float))
    return toFlirt(world, _fslpy_image(moving), _fslpy_image(fixed), from_="world", to="world")


def _run(interface, what: str) -> None:
    try:
        interface.run()
    except Exception as error:  # nipype raises RuntimeError/OSError with the tool's stderr
        raise SynflairError(f"{what} failed: {interface.cmdline}\n{error}") from error


def estimate(job: Estimation, settings: FlirtSettings = FlirtSettings()) -> np.ndarray:
    """Run FLIRT and return ``fixed_to_moving_world`` (RAS mm).

    FLIRT's matrix and image are written in ``job.workdir``; ``job.fixed_mask`` is
    FLIRT's cost-function weighting (``-refweight``).
    """
    from fsl.transform.flirt import readFlirt

    require_fsl("flirt")
    workdir = Path(job.workdir)
    matrix_path = workdir / "flirt.mat"
    interface = flirt_interface(
        job.moving,
        job.fixed,
        matrix_path,
        workdir / "flirt.nii.gz",
        dof=job.dof,
        settings=settings,
        fixed_weight=job.fixed_mask,
    )
    _run(interface, "FLIRT")
    return flirt_to_world(readFlirt(str(matrix_path)), job.moving, job.fixed)


def resample(job: Resampling) -> np.ndarray:
    """Resample with FLIRT (``-applyxfm``; see :class:`Resampling`)."""
    import nibabel as nib
    from fsl.transform.flirt import writeFlirt

    require_fsl("flirt")
    workdir = Path(job.workdir)
    matrix_path = workdir / "apply.mat"
    writeFlirt(world_to_flirt(job.fixed_to_moving_world, job.moving, job.fixed), str(matrix_path))
    out_file = workdir / "applied.nii.gz"
    interface = applyxfm_interface(
        job.moving, job.fixed, matrix_path, out_file, interpolation=job.interpolation
    )
    _run(interface, "FLIRT -applyxfm")
    return np.asarray(nib.load(str(out_file)).dataobj)
