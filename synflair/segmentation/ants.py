"""The ``ants`` tissue-segmentation backend: Atropos through antspyx (``ants.atropos``).

A 3-class Gaussian finite mixture of the skull-stripped T1w intensities inside
the intracranial mask, initialised by k-means, with a mild Markov random field
(MRF) prior on the labels. Defaults (:class:`AtroposSettings`): ``kmeans[3]``,
MRF smoothing factor 0.2 over a 1x1x1-voxel neighbourhood (antspyx's default
factor; ANTs weights neighbours by physical distance, so thick slices couple
less across slices), and 5 iterations (antspyx's default). Outputs: the label
image and the 3 posterior probability images.

Reproducibility: Atropos' label update (ICM) starts each voxel from a random
label, kept where every class's posterior is 0 (intensities far from all class
means); through the MRF and the next EM iteration the draw spreads to
neighbouring voxels. Atropos draws it from a Mersenne Twister seeded from the
clock unless ``--use-random-seed 0`` (``r``), which seeds it with the constant
:data:`ATROPOS_SEED`. Without it, runs on patient19 (1 mm) differed in about
2,000 labels; with it, runs are bit-identical, at any ITK thread count (1, 2, 8
tried: the thread count does not change the maps). Atropos takes no other seed
(nor ``ANTS_RANDOM_SEED``), so the choice is this constant or the clock
(:attr:`AtroposSettings.use_random_seed`).

References
----------
.. [1] Avants BB, Tustison NJ, Wu J, Cook PA, Gee JC. An open source
   multivariate framework for n-tissue segmentation with evaluation on public
   data. Neuroinformatics 2011;9:381-400 (Atropos).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synflair.errors import SynflairError

__all__ = ["ATROPOS_SEED", "AtroposSettings", "atropos_arguments", "provenance", "run"]

_INITIALIZATIONS = ("kmeans", "otsu")
#: The seed Atropos gives its random number generator under ``--use-random-seed 0``
#: (ANTs ``Examples/Atropos.cxx``; ITK's Mersenne Twister default seed).
ATROPOS_SEED = 19650218


@dataclass(frozen=True)
class AtroposSettings:
    """Options of ``ants.atropos``.

    Attributes
    ----------
    initialization : {"kmeans", "otsu"}
        ``i``: ``KMeans[3]`` or ``Otsu[3]``.
    mrf_beta : float
        MRF smoothing factor (``m=[beta, r]``); 0 disables the MRF.
    mrf_radius : tuple of int
        MRF neighbourhood radius per axis, voxels.
    iterations : int
        Maximum EM iterations (``c=[iterations, threshold]``).
    convergence : float
        Convergence threshold on the posterior change.
    use_random_seed : bool
        ``r``: False (default) seeds Atropos with :data:`ATROPOS_SEED`, so that
        two runs give identical maps; True seeds it from the clock (maps differ
        run to run; for measuring that variation only).
    """

    initialization: str = "kmeans"
    mrf_beta: float = 0.2
    mrf_radius: tuple[int, int, int] = (1, 1, 1)
    iterations: int = 5
    convergence: float = 0.0
    use_random_seed: bool = False

    def __post_init__(self):
        if self.initialization not in _INITIALIZATIONS:
            raise ValueError(
                f"initialization must be one of {_INITIALIZATIONS}, not {self.initialization!r}"
            )
        if not 0 <= self.mrf_beta <= 1:
            raise ValueError(f"mrf_beta must be within 0-1, not {self.mrf_beta!r}")
        if len(self.mrf_radius) != 3 or any(int(r) != r or r < 0 for r in self.mrf_radius):
            raise ValueError(f"mrf_radius must be 3 integers >= 0, not {self.mrf_radius!r}")
        if int(self.iterations) != self.iterations or self.iterations < 1:
            raise ValueError(f"iterations must be an integer >= 1, not {self.iterations!r}")
        if self.convergence < 0:
            raise ValueError(f"convergence must be >= 0, not {self.convergence!r}")
        if not isinstance(self.use_random_seed, bool):
            raise ValueError(f"use_random_seed must be True or False, not {self.use_random_seed!r}")

    @property
    def random_seed(self) -> int | None:
        """The seed of Atropos' random number generator; None: from the clock."""
        return None if self.use_random_seed else ATROPOS_SEED


def atropos_arguments(settings: AtroposSettings, n_classes: int = 3) -> dict[str, str]:
    """The ``i``, ``m``, ``c`` and ``r`` arguments of ``ants.atropos`` for ``settings``."""
    init = {"kmeans": "kmeans", "otsu": "Otsu"}[settings.initialization]
    radius = "x".join(str(int(r)) for r in settings.mrf_radius)
    return {
        "i": f"{init}[{n_classes}]",
        "m": f"[{settings.mrf_beta:g},{radius}]",
        "c": f"[{int(settings.iterations)},{settings.convergence:g}]",
        "r": "1" if settings.use_random_seed else "0",
    }


def provenance(settings: AtroposSettings) -> dict:
    """What the ``P_dseg.json`` sidecar records of an Atropos run.

    ``AtroposArguments`` (as passed to ``ants.atropos``), ``RandomSeed``
    (:data:`ATROPOS_SEED`, or None when seeded from the clock) and
    ``Reproducible`` (whether a rerun gives identical maps).
    """
    return {
        "AtroposArguments": atropos_arguments(settings),
        "RandomSeed": settings.random_seed,
        "Reproducible": not settings.use_random_seed,
    }


@contextlib.contextmanager
def _scratch_tempdir(workdir: Path):
    """Make :mod:`tempfile` place antspyx's temporary files in ``workdir``.

    ``ants.atropos`` writes its posterior images to ``tempfile.mktemp()``
    names and never removes them; this keeps them in our scratch directory.
    """
    saved = tempfile.tempdir
    tempfile.tempdir = str(workdir)
    try:
        yield
    finally:
        tempfile.tempdir = saved


def run(
    t1w: str | os.PathLike,
    mask: str | os.PathLike,
    *,
    workdir: str | os.PathLike,
    settings: AtroposSettings = AtroposSettings(),
) -> tuple[np.ndarray, np.ndarray]:
    """Segment a skull-stripped T1w into 3 classes with Atropos.

    Parameters
    ----------
    t1w : path-like
        Skull-stripped T1w NIfTI.
    mask : path-like
        Binary mask on the same grid.
    workdir : path-like
        Scratch directory.
    settings : AtroposSettings

    Returns
    -------
    labels : numpy.ndarray of int, shape (X, Y, Z)
        0 outside the mask, 1-3 inside, in Atropos' class order.
    probabilities : numpy.ndarray, shape (3, X, Y, Z)
        Posterior probability of each class, same order.
    """
    import ants

    image = ants.image_read(str(t1w))
    mask_image = ants.image_read(str(mask))
    try:
        with _scratch_tempdir(Path(workdir)):
            result = ants.atropos(a=image, x=mask_image, **atropos_arguments(settings))
    except Exception as error:  # antspyx raises plain Exception
        raise SynflairError(f"Atropos segmentation of {t1w} failed: {error}") from error
    labels = np.rint(result["segmentation"].numpy()).astype(np.int16)
    probabilities = np.stack([p.numpy() for p in result["probabilityimages"]])
    if probabilities.shape[0] != 3:
        raise SynflairError(
            f"Atropos segmentation of {t1w} returned {probabilities.shape[0]} posterior images, "
            "expected 3"
        )
    return labels, probabilities
