"""The one documented intensity scale that FLAIR images are compared on.

Synthetic FLAIR (arbitrary units of the quantification), DL-FLAIR (units the
network learned) and conventional FLAIR (scanner units) differ in global scale.
Before PSNR and NRMSE, and as the target normalization in training, every
FLAIR is scaled linearly so that its mean inside the intracranial mask equals
:data:`INTRACRANIAL_MEAN`. The value 2000 puts the images on the scale implied
by the paper's Table (with PSNR peak 25,500: RMSE = NRMSE x mean, giving an
intracranial mean of about 2,000-2,400 for the reported figures).
"""

from __future__ import annotations

import numpy as np

from synflair.errors import SynflairError

#: Mean FLAIR intensity inside the intracranial mask after scaling.
INTRACRANIAL_MEAN = 2000.0


def scale_factor(
    image: np.ndarray, mask: np.ndarray, target: float = INTRACRANIAL_MEAN, *, name: str = "image"
) -> float:
    """Factor that brings the mean of ``image`` inside ``mask`` to ``target``.

    Parameters
    ----------
    image : numpy.ndarray
        Non-negative image.
    mask : numpy.ndarray of bool
        Same shape as ``image``; at least one voxel.
    target : float
        Desired mean inside the mask.
    name : str
        Used in error messages.

    Returns
    -------
    float
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != np.shape(image):
        raise SynflairError(f"{name}: mask shape {mask.shape} != image shape {np.shape(image)}")
    if not mask.any():
        raise SynflairError(f"{name}: the intracranial mask is empty; cannot scale intensities")
    mean = float(np.mean(np.asarray(image, dtype=np.float64)[mask]))
    if not np.isfinite(mean) or mean <= 0:
        raise SynflairError(
            f"{name}: mean inside the mask is {mean!r}; expected a positive finite value"
        )
    return target / mean


def to_common_scale(
    image: np.ndarray, mask: np.ndarray, target: float = INTRACRANIAL_MEAN, *, name: str = "image"
) -> tuple[np.ndarray, float]:
    """Scale ``image`` so that its intracranial mean is ``target``.

    Returns
    -------
    scaled : numpy.ndarray (float32)
    factor : float
        The factor applied (recorded with every metric).
    """
    factor = scale_factor(image, mask, target, name=name)
    return (np.asarray(image, dtype=np.float32) * np.float32(factor)), factor
