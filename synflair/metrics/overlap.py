"""Overlap of binary masks: the Dice index of lesion maps."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from synflair.errors import SynflairError


def dice(a: ArrayLike, b: ArrayLike) -> float:
    """Dice index ``2 |A and B| / (|A| + |B|)`` of two binary masks.

    Parameters
    ----------
    a, b : array_like of bool, same shape
        Non-zero voxels are members.

    Returns
    -------
    float
        In [0, 1]; NaN when both masks are empty (the index is undefined; callers
        record the reason).

    References
    ----------
    Dice LR. Measures of the amount of ecologic association between species.
    Ecology 1945;26:297-302.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise SynflairError(f"masks have shapes {a.shape} and {b.shape}; expected the same grid")
    a = a.astype(bool)
    b = b.astype(bool)
    total = int(a.sum()) + int(b.sum())
    if total == 0:
        return math.nan
    return 2.0 * int(np.logical_and(a, b).sum()) / total
