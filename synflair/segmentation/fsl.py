"""The ``fsl`` tissue-segmentation backend: FAST through nipype.

``fast -t 1 -n 3 -H beta -o BASE T1W`` segments a skull-stripped T1-weighted
image into 3 classes with a hidden Markov random field and bias-field
correction, then estimates partial-volume fractions. Outputs used here:
``BASE_seg.nii.gz`` (hard labels 0 background, 1-3 classes) and
``BASE_pve_{0,1,2}.nii.gz`` (partial-volume fractions of classes 1-3), as the
paper did (Hagiwara et al. 2019, "Quantitative Evaluation").

Reproducibility: FAST has no seed option (``-R`` is the mixeltype smoothness,
not a seed). It does draw random numbers (the initial posteriors of its MRF
iterations) but seeds C's ``rand()`` with a constant itself (``srand(-1)`` in
``TanakaMain``) and runs single-threaded, so the same FAST build gives the same
maps on every run; a different C library may draw other numbers. Nothing needs
adding to the command line; FSLOUTPUTTYPE is set explicitly.

References
----------
.. [1] Zhang Y, Brady M, Smith S. Segmentation of brain MR images through a
   hidden Markov random field model and the expectation-maximization
   algorithm. IEEE Trans Med Imaging 2001;20:45-57 (FAST).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synflair.errors import SynflairError
from synflair.registration.backend import require_fsl

__all__ = ["FastSettings", "fast_interface", "provenance", "run"]


@dataclass(frozen=True)
class FastSettings:
    """Options of FSL FAST.

    Attributes
    ----------
    mrf_beta : float
        ``-H``: MRF beta, FAST's default 0.1.
    bias_correction : bool
        FAST estimates a bias field unless this is False (``-N``); synthetic
        T1w has no receive bias, but correcting does little harm.
    """

    mrf_beta: float = 0.1
    bias_correction: bool = True

    def __post_init__(self):
        if not 0 <= self.mrf_beta <= 1:
            raise ValueError(f"mrf_beta must be within 0-1, not {self.mrf_beta!r}")


def fast_interface(
    t1w: str | os.PathLike,
    out_basename: str | os.PathLike,
    settings: FastSettings = FastSettings(),
):
    """The nipype ``FAST`` interface for a 3-class T1 segmentation.

    Parameters
    ----------
    t1w : path-like
        Skull-stripped T1w (must exist).
    out_basename : path-like
        ``-o``: prefix of FAST's outputs.
    settings : FastSettings

    Returns
    -------
    nipype.interfaces.fsl.FAST
        Its ``.cmdline`` is the exact command.
    """
    os.environ.setdefault("FSLOUTPUTTYPE", "NIFTI_GZ")
    from nipype.interfaces import fsl

    interface = fsl.FAST(
        in_files=str(t1w),
        out_basename=str(out_basename),
        img_type=1,
        number_classes=3,
        hyper=float(settings.mrf_beta),
        output_type="NIFTI_GZ",
    )
    if not settings.bias_correction:
        interface.inputs.no_bias = True
    return interface


def provenance(settings: FastSettings) -> dict:
    """What the ``P_dseg.json`` sidecar records of a FAST run.

    ``FastSettings`` and ``Reproducible`` (True: FAST seeds its random number
    generator with a constant of its own; it takes no seed).
    """
    return {
        "FastSettings": {
            "mrf_beta": settings.mrf_beta,
            "bias_correction": settings.bias_correction,
        },
        "Reproducible": True,
    }


def run(
    t1w: str | os.PathLike,
    mask: str | os.PathLike,
    *,
    workdir: str | os.PathLike,
    settings: FastSettings = FastSettings(),
) -> tuple[np.ndarray, np.ndarray]:
    """Segment a skull-stripped T1w into 3 classes with FAST.

    ``mask`` is not passed to FAST (it segments the non-zero voxels of the
    skull-stripped image); it is applied to FAST's outputs.

    Returns
    -------
    labels : numpy.ndarray of int, shape (X, Y, Z)
        0 outside, 1-3 inside, in FAST's class order.
    probabilities : numpy.ndarray, shape (3, X, Y, Z)
        Partial-volume fractions of the 3 classes.
    """
    import nibabel as nib

    require_fsl("fast")
    base = Path(workdir) / "fast"
    interface = fast_interface(t1w, base, settings)
    try:
        interface.run()
    except Exception as error:  # nipype raises RuntimeError/OSError with FAST's stderr
        raise SynflairError(f"FAST failed: {interface.cmdline}\n{error}") from error
    inside = np.asarray(nib.load(str(mask)).dataobj) > 0.5
    labels = np.rint(np.asarray(nib.load(f"{base}_seg.nii.gz").dataobj)).astype(np.int16)
    probabilities = np.stack(
        [np.asarray(nib.load(f"{base}_pve_{k}.nii.gz").dataobj, dtype=float) for k in range(3)]
    )
    return labels * inside, probabilities * inside
