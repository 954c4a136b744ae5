"""The ``ants`` registration backend: antspyx (``ants.registration``, ``ants.apply_transforms``).

ANTs/ITK physical space is LPS; an ITK affine transform written by
``antsRegistration`` for (fixed, moving) maps *fixed* physical points to
*moving* physical points: ``y = A (x - c) + c + t`` with ``parameters =
[A (row-major), t]`` and ``fixed_parameters = c``. In RAS that is
``M = F @ L @ F`` with ``F = diag(-1, -1, 1, 1)``, which is exactly synflair's
``fixed_to_moving_world``.

Settings (:class:`AntsSettings`): Mattes mutual information (32 bins, 25 %
regular sampling, fixed seed) with a 3-level pyramid: shrink 2/1/1 voxels,
smoothing 1/0.5/0 voxels, up to 500/250/100 iterations per level (the ``fast``
preset 100/50/20). ANTs shrinks every axis by the same factor, and the thick
slices (4-5 mm, 12-30 of them) do not survive a factor 4: with the former 4/2/1
pyramid the rotation error on the 12 demo phantom subjects reached 0.57-0.92
degree (through-plane rotations); with 2/1/1 it is 0.08-0.48 degree (mean
0.26) and the translation error <= 0.25 mm, in 5.6 s per subject on 2 cores.

The transform starts from the identity, because conventional FLAIR and MDME of
one session share the scanner frame;
``initialization="center-of-mass"`` aligns image centres of mass first, for
images from different sessions.

References
----------
.. [1] Avants BB, Tustison NJ, Song G, et al. A reproducible evaluation of ANTs
   similarity metric performance in brain image registration. Neuroimage
   2011;54:2033-2044.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synflair.errors import SynflairError
from synflair.registration.backend import Estimation, Resampling

__all__ = [
    "ANTS_INTERPOLATION",
    "ANTS_PRESETS",
    "AntsSettings",
    "estimate",
    "itk_to_world",
    "resample",
    "world_to_itk",
]

#: synflair interpolation name -> ``ants.apply_transforms`` interpolator.
ANTS_INTERPOLATION = {"linear": "linear", "nearest": "nearestNeighbor", "spline": "bSpline"}
_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
_INITIALIZATIONS = ("identity", "center-of-mass")


@dataclass(frozen=True)
class AntsSettings:
    """Options of ``ants.registration`` for a rigid or affine registration.

    Attributes
    ----------
    metric : {"mattes", "GC", "meansquares"}
        ``aff_metric``; Mattes mutual information handles the contrast
        difference between synthetic and conventional FLAIR.
    bins : int
        ``aff_sampling``: histogram bins of the Mattes metric.
    sampling_rate : float
        ``aff_random_sampling_rate``: fraction of voxels in the metric.
    iterations, shrink_factors, smoothing_sigmas : tuple
        The multi-resolution pyramid, one entry per level (coarse to fine);
        shrink factors and smoothing sigmas in voxels.
    initialization : {"identity", "center-of-mass"}
    random_seed : int
        Seed of ANTs' metric sampling (bitwise reproducibility also needs
        ``ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS=1``).
    """

    metric: str = "mattes"
    bins: int = 32
    sampling_rate: float = 0.25
    iterations: tuple[int, ...] = (500, 250, 100)
    shrink_factors: tuple[int, ...] = (2, 1, 1)
    smoothing_sigmas: tuple[float, ...] = (1.0, 0.5, 0.0)
    initialization: str = "identity"
    random_seed: int = 1

    def __post_init__(self):
        if self.metric not in ("mattes", "GC", "meansquares"):
            raise ValueError(f"metric must be mattes, GC or meansquares, not {self.metric!r}")
        if not 0 < self.sampling_rate <= 1:
            raise ValueError(f"sampling_rate must be in (0, 1], not {self.sampling_rate!r}")
        levels = {len(self.iterations), len(self.shrink_factors), len(self.smoothing_sigmas)}
        if len(levels) != 1 or not self.iterations:
            raise ValueError(
                "iterations, shrink_factors and smoothing_sigmas must have the same non-zero "
                f"length, not {self.iterations!r}, {self.shrink_factors!r}, "
                f"{self.smoothing_sigmas!r}"
            )
        if any(int(s) != s or s < 1 for s in self.shrink_factors):
            raise ValueError(f"shrink_factors must be integers >= 1, not {self.shrink_factors!r}")
        if self.initialization not in _INITIALIZATIONS:
            raise ValueError(
                f"initialization must be one of {_INITIALIZATIONS}, not {self.initialization!r}"
            )


#: Named settings: ``standard`` (default) and ``fast`` (tests, demo).
ANTS_PRESETS = {
    "standard": AntsSettings(),
    "fast": AntsSettings(iterations=(100, 50, 20)),
}


def itk_to_world(parameters, fixed_parameters) -> np.ndarray:
    """RAS ``fixed_to_moving_world`` of an ITK affine (LPS, fixed -> moving points).

    Parameters
    ----------
    parameters : (12,) array_like
        Matrix (row-major 3x3) then translation, mm.
    fixed_parameters : (3,) array_like
        Centre of rotation, LPS mm.

    Returns
    -------
    (4, 4) numpy.ndarray
    """
    parameters = np.asarray(parameters, dtype=float)
    center = np.asarray(fixed_parameters, dtype=float)
    if parameters.shape != (12,) or center.shape != (3,):
        raise ValueError(
            "an ITK 3D affine needs 12 parameters and 3 fixed parameters, not "
            f"{parameters.size} and {center.size}"
        )
    linear = parameters[:9].reshape(3, 3)
    lps = np.eye(4)
    lps[:3, :3] = linear
    lps[:3, 3] = parameters[9:] + center - linear @ center
    return _LPS @ lps @ _LPS


def world_to_itk(fixed_to_moving_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`itk_to_world` with the centre at the origin.

    Returns
    -------
    parameters : (12,) numpy.ndarray
    fixed_parameters : (3,) numpy.ndarray
        Zeros.
    """
    lps = _LPS @ np.asarray(fixed_to_moving_world, dtype=float) @ _LPS
    return np.concatenate([lps[:3, :3].ravel(), lps[:3, 3]]), np.zeros(3)


def _ants():
    import ants

    return ants


def _read(path: str | os.PathLike):
    return _ants().image_read(str(path))


@contextmanager
def _seeded(ants, seed: int):
    """Pass ``--random-seed`` to ``antsRegistration`` for the duration of one call.

    antspyx >= 0.5 reads the seed from ``ants.config._random_seed`` and silently
    swallows a ``random_seed`` keyword (older releases took the keyword), so
    the sampling of the metric was not reproducible. This sets that attribute
    and restores it afterwards, without ``ants.set_ants_deterministic``, which
    also seeds NumPy's global generator.
    """
    config = getattr(ants, "config", None)
    if config is None or not hasattr(config, "_random_seed"):
        yield {"random_seed": int(seed)}
        return
    previous = config._random_seed
    config._random_seed = int(seed)
    try:
        yield {}
    finally:
        config._random_seed = previous


def estimate(job: Estimation, settings: AntsSettings = AntsSettings()) -> np.ndarray:
    """Register with ``ants.registration`` and return ``fixed_to_moving_world``.

    ``job.dof`` 6 or 12 is ``type_of_transform`` ``"Rigid"`` or ``"Affine"``;
    ``job.workdir`` is ANTs' ``outprefix``; ``job.fixed_mask`` its metric mask.
    """
    ants = _ants()
    kind = {6: "Rigid", 12: "Affine"}[job.dof]
    extra = {}
    if settings.initialization == "identity":
        extra["initial_transform"] = "Identity"
    if job.fixed_mask is not None:
        extra["mask"] = _read(job.fixed_mask)
    try:
        with _seeded(ants, settings.random_seed) as seed_keyword:
            result = ants.registration(
                _read(job.fixed),
                _read(job.moving),
                type_of_transform=kind,
                outprefix=str(Path(job.workdir) / "ants_"),
                aff_metric=settings.metric,
                aff_sampling=int(settings.bins),
                aff_random_sampling_rate=float(settings.sampling_rate),
                aff_iterations=tuple(int(i) for i in settings.iterations),
                aff_shrink_factors=tuple(int(s) for s in settings.shrink_factors),
                aff_smoothing_sigmas=tuple(settings.smoothing_sigmas),
                **seed_keyword,
                **extra,
            )
    except Exception as error:  # antspyx raises plain Exception/RuntimeError
        raise SynflairError(
            f"ants.registration of {job.moving} to {job.fixed} failed: {error}"
        ) from error
    transform = ants.read_transform(result["fwdtransforms"][0])
    return itk_to_world(transform.parameters, transform.fixed_parameters)


def resample(job: Resampling) -> np.ndarray:
    """Resample with ``ants.apply_transforms`` (see :class:`Resampling`)."""
    interpolation = job.interpolation
    if interpolation not in ANTS_INTERPOLATION:
        raise ValueError(
            f"interpolation must be one of {tuple(ANTS_INTERPOLATION)}, not {interpolation!r}"
        )
    ants = _ants()
    parameters, fixed_parameters = world_to_itk(job.fixed_to_moving_world)
    transform = ants.create_ants_transform(
        transform_type="AffineTransform",
        precision="double",
        dimension=3,
        parameters=parameters.tolist(),
        fixed_parameters=fixed_parameters.tolist(),
    )
    path = Path(job.workdir) / "apply_0GenericAffine.mat"
    ants.write_transform(transform, str(path))
    warped = ants.apply_transforms(
        _read(job.fixed),
        _read(job.moving),
        transformlist=[str(path)],
        interpolator=ANTS_INTERPOLATION[interpolation],
        defaultvalue=0,
    )
    return warped.numpy()
