"""Complex MDME images from their DICOM components, and background phase removal.

The raw MDME images are complex: the signed saturation-recovery signal
(negative at short TD) times a smooth background phase from the coil
sensitivities, B0 and the receiver. Removing that phase puts the signed
signal into the real part.

Background phase
----------------
For each echo time, the reference is the image with the longest saturation
delay: there every tissue has recovered to positive longitudinal magnetization
(for TR 4000 / TD 3879 ms and theta 120 degrees, even CSF with T1 ~ 4000 ms is
at about +0.6 of its equilibrium signal), so its phase *is* the background
phase. The complex reference is low-pass filtered in-plane (a Gaussian of
``sigma_mm``, default 10 mm, on the real and imaginary parts, which weights
each pixel by its magnitude so that the noisy background hardly counts), and
the phase of the filtered image is the estimate. Near the edge of the head
the filter mixes in fewer pixels on the outside, which biases the estimate by
the local phase gradient times the shift of the kernel's weighted centre (about
0.15 rad for a 0.02 rad/mm gradient); so the estimate is refined
(:data:`DEFAULT_PHASE_ITERATIONS` passes in all): the reference is corrected
by the current estimate and the phase of the low-pass of that residual is
added. On the test phantom (32x32, 7.5 mm pixels, a ~6 rad phase ramp) this
brings the worst real-part error inside the head from 1.3% to 0.1% of the
peak signal. The estimate is removed from every delay of that echo time. Echo
times get their own estimate because the B0 phase grows with TE.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synflair.errors import SynflairError

__all__ = [
    "DEFAULT_PHASE_ITERATIONS",
    "DEFAULT_PHASE_SIGMA_MM",
    "background_phase",
    "low_pass",
    "phase_to_radians",
]

#: Width (Gaussian sigma, mm) of the in-plane low-pass filter of the reference.
DEFAULT_PHASE_SIGMA_MM = 10.0
#: Passes of the low-pass phase estimate (1: no refinement).
DEFAULT_PHASE_ITERATIONS = 3


def phase_to_radians(phase: np.ndarray, *, name: str = "phase images") -> np.ndarray:
    """Interpret rescaled DICOM phase values as radians.

    Vendors store phase images in different units. The unit is chosen from the
    largest absolute value over all phase images of the series:

    * up to pi (+0.1%): radians;
    * up to 3142 (+0.1%): milliradians (GE);
    * up to 4096: Siemens' 12-bit range, -4096..4095 for -pi..pi.

    Raises
    ------
    SynflairError
        If the values exceed every known range.
    """
    phase = np.asarray(phase, dtype=np.float64)
    peak = float(np.max(np.abs(phase))) if phase.size else 0.0
    if peak <= np.pi * 1.001:
        return phase
    if peak <= 3142 * 1.001:
        return phase / 1000.0
    if peak <= 4096:
        return phase * (np.pi / 4096.0)
    raise SynflairError(
        f"{name}: values up to {peak:g}; expected phase in radians (|p| <= pi), "
        "milliradians (|p| <= 3142) or Siemens units (|p| <= 4096)"
    )


def background_phase(
    reference: np.ndarray,
    spacing_mm,
    *,
    sigma_mm: float = DEFAULT_PHASE_SIGMA_MM,
    iterations: int = DEFAULT_PHASE_ITERATIONS,
) -> np.ndarray:
    """Smooth background phase of complex image(s) ``reference``.

    Parameters
    ----------
    reference : complex numpy.ndarray, shape (nx, ny, ...)
        Images with positive underlying signal (the longest-TD image of an
        echo time); the first two axes are in-plane (i, j).
    spacing_mm : (2,) array_like
        Voxel size along i and j, mm.
    sigma_mm : float
        Gaussian sigma of the in-plane low-pass filter, mm (> 0).
    iterations : int
        Number of passes (>= 1); each adds the low-pass phase of the reference
        corrected by the estimate so far.

    Returns
    -------
    float32 numpy.ndarray, shape of ``reference``
        Phase in radians, in (-pi, pi]; zero where the filtered image is zero.
    """
    reference = np.asarray(reference)
    if not np.isfinite(sigma_mm) or sigma_mm <= 0:
        raise ValueError(f"sigma_mm must be a positive number, not {sigma_mm!r}")
    if int(iterations) != iterations or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, not {iterations!r}")
    sigma = [sigma_mm / float(s) for s in spacing_mm]
    reference = reference.astype(np.complex64, copy=False)
    estimate = np.angle(low_pass(reference, sigma)).astype(np.float32)
    for _ in range(int(iterations) - 1):
        residual = reference * np.exp(-1j * estimate)
        estimate += np.angle(low_pass(residual, sigma)).astype(np.float32)
    return np.angle(np.exp(1j * estimate))


def _gaussian(image: np.ndarray, sigma_px) -> np.ndarray:
    sigma = list(sigma_px) + [0.0] * (image.ndim - 2)
    out = np.empty(image.shape, dtype=np.result_type(image.dtype, np.complex64))
    out.real = ndimage.gaussian_filter(image.real, sigma, mode="nearest")
    out.imag = ndimage.gaussian_filter(image.imag, sigma, mode="nearest")
    return out


def _upsample(coarse: np.ndarray, axis: int, n: int, factor: int) -> np.ndarray:
    """Linear interpolation along ``axis`` from block centres back to ``n`` fine pixels."""
    centre = (np.arange(n) - (factor - 1) / 2.0) / factor
    centre = np.clip(centre, 0, coarse.shape[axis] - 1)
    low = np.floor(centre).astype(int)
    high = np.minimum(low + 1, coarse.shape[axis] - 1)
    shape = [1] * coarse.ndim
    shape[axis] = n
    weight = (centre - low).astype(np.float32).reshape(shape)
    return (
        np.take(coarse, low, axis=axis) * (1 - weight) + np.take(coarse, high, axis=axis) * weight
    )


def low_pass(image: np.ndarray, sigma_px) -> np.ndarray:
    """In-plane Gaussian low-pass of a complex image.

    Parameters
    ----------
    image : complex numpy.ndarray, shape (nx, ny, ...)
    sigma_px : (2,) array_like
        Gaussian sigma along the first two axes, pixels.

    Returns
    -------
    complex numpy.ndarray, shape of ``image``

    Notes
    -----
    A kernel of several pixels is applied on a grid block-averaged by
    ``f = floor(sigma / 2)`` per axis (sigma at least 2 coarse pixels) and the
    result is interpolated linearly back to the pixel centres. The block
    average widens the kernel by ``f / sqrt(12)`` in quadrature (about 1% of
    sigma) and the interpolation error of the smooth output is of order
    ``(f / sigma)^2`` of its curvature; it makes the paper's 512x512 grid
    (sigma 10 mm = 21 pixels) about 100 times cheaper to filter.
    """
    image = np.asarray(image)
    factors = [max(1, int(float(s) // 2)) for s in sigma_px]
    if factors == [1, 1]:
        return _gaussian(image, sigma_px)
    n = image.shape[:2]
    pad = [(0, (-size) % f) for size, f in zip(n, factors, strict=True)]
    padded = np.pad(image, pad + [(0, 0)] * (image.ndim - 2), mode="edge")
    blocks = (
        padded.shape[0] // factors[0],
        factors[0],
        padded.shape[1] // factors[1],
        factors[1],
        *image.shape[2:],
    )
    coarse = padded.reshape(blocks).mean(axis=(1, 3))
    smooth = _gaussian(coarse, [s / f for s, f in zip(sigma_px, factors, strict=True)])
    return _upsample(_upsample(smooth, 0, n[0], factors[0]), 1, n[1], factors[1])
