"""Smooth multiplicative intensity bias of a FLAIR, as a low-order polynomial in log space.

Receive-coil sensitivity makes a FLAIR brighter near the coil elements; a
hyperintensity score against global tissue intensities would then flag whole
lobes. The bias is modelled, as in parametric bias correction (Styner et al.
2000; Likar et al. 2001), as

    log FLAIR(x) = a_t + sum_k c_k phi_k(u(x)) + residual,

for the voxels of pure GM and pure WM (``t`` the tissue, ``a_t`` its log
intensity, ``phi_k`` the monomials of degree 1..``degree`` of the voxel
position ``u`` scaled to about [-1, 1]). The fit is least squares with
iterative rejection of voxels farther than 3 robust SDs from the fit
(lesions, partial volume), degree by degree, on at most ``max_samples`` evenly
strided voxels at least ``edge_mm`` inside the intracranial mask.

References
----------
.. [1] Styner M, Brechbuhler C, Szekely G, Gerig G. Parametric estimate of
   intensity inhomogeneities applied to MRI. IEEE Trans Med Imaging
   2000;19:153-165.
.. [2] Likar B, Viergever MA, Pernus F. Retrospective correction of MR
   intensity inhomogeneity by information minimization. IEEE Trans Med
   Imaging 2001;20:1398-1410.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from synflair.errors import SynflairError

#: Robust SDs beyond which a voxel is left out of the next iteration of the fit.
REJECT_SDS = 3.0
ITERATIONS = 4
MAD_TO_SD = 1.4826
#: Tissue voxels within this distance (mm) of the outside of the mask are not used.
EDGE_MM = 3.0


def monomial_exponents(degree: int) -> list[tuple[int, int, int]]:
    """Exponents ``(a, b, c)`` of the monomials ``x^a y^b z^c`` of degree 1..``degree``."""
    return [
        e
        for total in range(1, degree + 1)
        for e in itertools.product(range(total + 1), repeat=3)
        if sum(e) == total
    ]


def _positions(shape, voxel_size, index=None) -> np.ndarray:
    """Voxel centres in mm, centred and scaled by the largest half-extent: shape (3, N)."""
    size = np.asarray(voxel_size, dtype=float)
    extent = (np.asarray(shape) - 1) * size
    scale = max(float(extent.max()) / 2.0, 1e-6)
    if index is None:
        index = np.indices(shape).reshape(3, -1)
    return ((index * size[:, None]) - extent[:, None] / 2.0) / scale


def evaluate_polynomial(coef, exponents, shape, voxel_size) -> np.ndarray:
    """``sum_k coef_k x^a y^b z^c`` on the voxel grid (separable, without an N x K matrix)."""
    axes = []
    size = np.asarray(voxel_size, dtype=float)
    extent = (np.asarray(shape) - 1) * size
    scale = max(float(extent.max()) / 2.0, 1e-6)
    for axis, n in enumerate(shape):
        coords = (np.arange(n) * size[axis] - extent[axis] / 2.0) / scale
        view = [1, 1, 1]
        view[axis] = n
        axes.append(coords.reshape(view))
    out = np.zeros(shape)
    for c, (a, b, e) in zip(coef, exponents, strict=True):
        out += c * (axes[0] ** a * axes[1] ** b * axes[2] ** e)
    return out


def _design(u: np.ndarray, exponents) -> np.ndarray:
    return np.stack([u[0] ** a * u[1] ** b * u[2] ** c for a, b, c in exponents], axis=1)


def _robust_fit(offsets, monomials, target, exponents, degree: int, min_kept: int) -> np.ndarray:
    """Coefficients (tissue offsets, then monomials) of the iteratively trimmed fit of ``target``.

    Degree by degree, so that the voxels a low-order fit rejects (partial volume at the
    brain edge, lesions) cannot bend the higher-order terms towards themselves; the
    coefficients of the last degree's fit (all monomials up to ``degree``).
    """
    keep = np.ones(len(target), dtype=bool)
    for current in range(1, degree + 1):
        columns = [i for i, e in enumerate(exponents) if sum(e) <= current]
        design = np.concatenate([offsets, monomials[:, columns]], axis=1)
        for _ in range(ITERATIONS):
            coef, *_ = np.linalg.lstsq(design[keep], target[keep], rcond=None)
            residual = target - design @ coef
            spread = MAD_TO_SD * np.median(np.abs(residual[keep] - np.median(residual[keep])))
            new_keep = np.abs(residual) <= REJECT_SDS * max(spread, 1e-12)
            if np.array_equal(new_keep, keep) or new_keep.sum() < min_kept:
                break
            keep = new_keep
    return coef


def estimate_bias(
    flair: np.ndarray,
    tissues: Sequence[np.ndarray],
    *,
    degree: int,
    voxel_size: Sequence[float],
    mask: np.ndarray | None = None,
    edge_mm: float = EDGE_MM,
    max_samples: int = 200_000,
) -> np.ndarray:
    """Multiplicative bias field of ``flair`` (geometric mean 1 over the tissue voxels).

    Parameters
    ----------
    flair : numpy.ndarray, 3D
        Positive intensities in the tissue voxels.
    tissues : sequence of numpy.ndarray of bool
        Voxels of each pure tissue (e.g. GM and WM), each with its own intensity.
    degree : int
        Polynomial degree, >= 1.
    voxel_size : sequence of 3 float
        mm.
    mask : numpy.ndarray of bool, optional
        Intracranial mask; tissue voxels closer than ``edge_mm`` to its outside are not
        used (partial volume with bone and scalp).
    edge_mm : float
        See ``mask``.
    max_samples : int
        Voxels used per fit at most (evenly strided).

    Returns
    -------
    numpy.ndarray of float64, the shape of ``flair``
        Divide ``flair`` by it to correct.

    Raises
    ------
    SynflairError
        When there are fewer voxels than 5 per model parameter.
    """
    if degree < 1:
        raise ValueError(f"degree must be >= 1, not {degree!r}")
    exponents = monomial_exponents(degree)
    usable = flair > 0
    if mask is not None and edge_mm > 0:
        usable &= ndimage.distance_transform_edt(mask, sampling=voxel_size) > edge_mm
    rows, labels = [], []
    for label, voxels in enumerate(tissues):
        voxels = np.asarray(voxels, dtype=bool) & usable
        rows.append(np.flatnonzero(voxels))
        labels.append(np.full(len(rows[-1]), label))
    index = np.concatenate(rows)
    label = np.concatenate(labels)
    n_params = len(exponents) + len(rows)
    if len(index) < 5 * n_params:
        raise SynflairError(
            f"only {len(index)} pure-tissue voxels to estimate a degree-{degree} intensity bias; "
            f"need {5 * n_params} (use a lower bias degree, or 0 to switch it off)"
        )
    step = max(1, len(index) // max_samples)
    index, label = index[::step], label[::step]
    u = _positions(flair.shape, voxel_size, np.array(np.unravel_index(index, flair.shape)))
    target = np.log(flair.ravel()[index])
    offsets = np.eye(len(rows))[label]
    coef = _robust_fit(offsets, _design(u, exponents), target, exponents, degree, 5 * n_params)
    log_bias = evaluate_polynomial(coef[len(rows) :], exponents, flair.shape, voxel_size)
    inside = np.zeros(flair.size, dtype=bool)
    inside[np.concatenate(rows)] = True
    log_bias -= float(np.mean(log_bias.ravel()[inside]))
    return np.exp(log_bias)
