"""How the scanner turns compartment fractions into images: slice geometry, slice profile,
multi-compartment complex signal summation and k-space truncation.

Per slice, the signal is simulated on a fine in-plane grid (``oversample``
times the reconstruction grid) as the profile-weighted sum over points through
the slice (the 2D slice profile, a Fermi-shaped slab of full width at half
maximum ``slice_thickness``). Every compartment contributes its *signed*
signal weighted by its fraction; the complex sum is Fourier transformed, the
central acquisition matrix kept (k-space truncation), complex Gaussian noise
added to the acquired samples, and the zero-filled matrix inverse transformed
to the reconstruction grid, as a scanner does. Magnitude images (the
conventional FLAIR) are the modulus after noise.

Grid convention: both in-plane grids share the FOV corner; with centred FFTs,
pixel ``N/2`` of an ``N``-point grid is the FOV centre, so the reconstructed
pixel ``m`` lies at ``corner + m * fov / M`` (see :func:`grid_affine`).
"""

from __future__ import annotations

import numpy as np

from synflair.geometry import LPS_TO_RAS, stack_affine
from synflair.phantom.presets import Geometry
from synflair.physics import CONVENTIONAL_FLAIR, InversionRecoveryProtocol, MDMEProtocol, ir_signed

__all__ = [
    "AXIAL_ORIENTATION",
    "downsample",
    "flair_signal",
    "grid_affine",
    "kspace_truncate",
    "mdme_signal",
    "plane_points",
    "signal_purity",
    "slice_profile",
]

#: ImageOrientationPatient of the axial slices: rows run to the patient's left, columns posterior.
AXIAL_ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def grid_affine(geometry: Geometry, matrix: tuple[int, int]) -> np.ndarray:
    """RAS affine of the slab sampled on an in-plane ``matrix`` (the recon or the fine grid).

    The FOV centre (pixel ``n/2``) and the slab centre are at ``geometry.center_mni``
    (scanner frame = template frame). Slices are axial, ordered inferior to superior.

    Returns
    -------
    numpy.ndarray, shape (4, 4)
        Exactly :func:`synflair.geometry.stack_affine` of the implied DICOM geometry.
    """
    n_i, n_j = (int(m) for m in matrix)
    spacing_i, spacing_j = geometry.fov / n_i, geometry.fov / n_j
    orientation = np.asarray(AXIAL_ORIENTATION)
    row, column = orientation[:3], orientation[3:]
    normal = np.cross(row, column)
    center_lps = (np.linalg.inv(LPS_TO_RAS) @ np.append(geometry.center_mni, 1.0))[:3]
    first = (
        center_lps
        - (n_i // 2) * spacing_i * row
        - (n_j // 2) * spacing_j * column
        - 0.5 * (geometry.n_slices - 1) * geometry.slice_step * normal
    )
    return stack_affine(first, orientation, (spacing_j, spacing_i), geometry.slice_step)


def plane_points(affine: np.ndarray, shape: tuple[int, int], k: float) -> np.ndarray:
    """RAS positions (mm) of the in-plane grid of slice ``k`` (may be fractional).

    Returns
    -------
    numpy.ndarray of float32, shape (3, n_i, n_j)
    """
    i, j = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    voxels = np.stack([i, j, np.full(i.shape, float(k))]).reshape(3, -1)
    world = affine[:3, :3] @ voxels + affine[:3, 3:4]
    return world.reshape(3, *shape).astype(np.float32)


def slice_profile(thickness: float, n_samples: int, edge_mm: float = 0.25):
    """Sample offsets (mm) through a slice and their normalised profile weights.

    The profile is ``1 / (1 + exp((|z| - thickness / 2) / edge_mm))`` (full width at
    half maximum ``thickness``), sampled at ``n_samples`` points over
    ``[-(thickness / 2 + 1), thickness / 2 + 1]`` mm; one sample means an ideal
    thin slice.

    Returns
    -------
    offsets : numpy.ndarray, shape (n_samples,)
    weights : numpy.ndarray, shape (n_samples,), summing to 1
    """
    if thickness <= 0 or int(n_samples) < 1 or edge_mm <= 0:
        raise ValueError(
            "thickness and edge_mm must be > 0 and n_samples >= 1, not "
            f"{(thickness, n_samples, edge_mm)!r}"
        )
    if int(n_samples) == 1:
        return np.zeros(1), np.ones(1)
    half = thickness / 2 + 1.0
    offsets = np.linspace(-half, half, int(n_samples))
    weights = 1.0 / (1.0 + np.exp((np.abs(offsets) - thickness / 2) / edge_mm))
    return offsets, weights / weights.sum()


def downsample(array: np.ndarray, factor: int) -> np.ndarray:
    """Average the last two axes over ``factor`` x ``factor`` cells centred on every
    ``factor``-th sample (a box of width ``factor``; half weights at its ends for even
    ``factor``), keeping sample ``0`` at the same position.
    """
    from scipy import ndimage

    factor = int(factor)
    if factor == 1:
        return np.asarray(array)
    if factor % 2:
        weights = np.ones(factor)
    else:
        weights = np.ones(factor + 1)
        weights[[0, -1]] = 0.5
    weights /= weights.sum()
    out = np.asarray(array, dtype=np.float32)
    for axis in (-2, -1):
        out = ndimage.convolve1d(out, weights, axis=axis, mode="nearest")
    return out[..., ::factor, ::factor]


def kspace_truncate(
    images: np.ndarray,
    acquisition: tuple[int, int],
    recon: tuple[int, int],
    *,
    noise_sigma: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Keep the central ``acquisition`` k-space matrix, add noise, zero-fill to ``recon``.

    Parameters
    ----------
    images : numpy.ndarray, shape (..., N_i, N_j)
        Complex or real images on the fine grid.
    acquisition : (int, int)
        Acquired matrix (even sizes, at most ``(N_i, N_j)`` and ``recon``).
    recon : (int, int)
        Reconstruction matrix.
    noise_sigma : float
        Standard deviation per channel (real, imaginary) of the noise in each
        reconstructed pixel; the noise is white in the acquired k-space, so it is
        correlated between zero-filled pixels.
    rng : numpy.random.Generator
        Required when ``noise_sigma > 0``.

    Returns
    -------
    numpy.ndarray of complex64, shape (..., M_i, M_j)
        The mean intensity is preserved.
    """
    from scipy import fft

    images = np.asarray(images)
    n = images.shape[-2:]
    a = tuple(int(v) for v in acquisition)
    m = tuple(int(v) for v in recon)
    for name, size in (("acquisition", a), ("recon", m)):
        if any(s % 2 for s in size):
            raise ValueError(f"{name} matrix must have even sizes, not {size!r}")
    if any(a[d] > n[d] or a[d] > m[d] for d in range(2)):
        raise ValueError(f"acquisition matrix {a} must not exceed the grid {n} or recon {m}")
    if noise_sigma > 0 and rng is None:
        raise ValueError("rng is required when noise_sigma > 0")
    axes = (-2, -1)
    spectrum = fft.fftshift(fft.fft2(fft.ifftshift(images, axes=axes), axes=axes), axes=axes)
    crop = tuple(slice(n[d] // 2 - a[d] // 2, n[d] // 2 + a[d] // 2) for d in range(2))
    kept = spectrum[(..., *crop)] * (m[0] * m[1] / (n[0] * n[1]))
    if noise_sigma > 0:
        std = noise_sigma * m[0] * m[1] / np.sqrt(a[0] * a[1])
        kept = kept + std * (rng.standard_normal(kept.shape) + 1j * rng.standard_normal(kept.shape))
    padded = np.zeros(images.shape[:-2] + m, dtype=np.complex128)
    place = tuple(slice(m[d] // 2 - a[d] // 2, m[d] // 2 + a[d] // 2) for d in range(2))
    padded[(..., *place)] = kept
    out = fft.fftshift(fft.ifft2(fft.ifftshift(padded, axes=axes), axes=axes), axes=axes)
    return out.astype(np.complex64)


def signal_purity(fractions: np.ndarray, acquisition: tuple[int, int]) -> np.ndarray:
    """How much of each reconstructed voxel's signal comes from its own main compartment.

    The box-averaged ``fractions`` say what fills a voxel; the signal also holds
    the neighbours that the acquisition's point-spread function (k-space
    truncation to ``acquisition``, a sinc with negative lobes) mixes in, which a
    single-compartment fit cannot separate. This returns, per compartment ``c``,
    ``1 - sum_{d != c} |w_d|`` with ``w`` the fractions passed through the same
    truncation: 1 for a voxel whose signal is compartment ``c`` alone, lower the
    more the others (or their ringing) contribute. Use it to select the "pure"
    voxels on which quantification accuracy is judged.

    Parameters
    ----------
    fractions : numpy.ndarray, shape (C, M_i, M_j, K)
        Compartment fractions on the reconstruction grid (``SubjectImages.fractions``).
    acquisition : (int, int)
        The acquired matrix of the series (``Geometry.mdme_matrix``).

    Returns
    -------
    numpy.ndarray of float32, shape (C, M_i, M_j, K)
    """
    fractions = np.asarray(fractions, dtype=np.float32)
    if fractions.ndim != 4:
        raise ValueError(f"fractions must have shape (C, M_i, M_j, K), not {fractions.shape}")
    in_plane = np.moveaxis(fractions, -1, 1)  # (C, K, M_i, M_j)
    weights = kspace_truncate(in_plane, acquisition, in_plane.shape[-2:]).real
    others = np.abs(weights).sum(axis=0, keepdims=True) - np.abs(weights)
    return np.moveaxis(1.0 - others, 1, -1).astype(np.float32)


def mdme_signal(
    fractions: np.ndarray,
    t1: np.ndarray,
    t2: np.ndarray,
    pd: np.ndarray,
    b1: np.ndarray,
    protocol: MDMEProtocol,
    *,
    csf_index: int | None = None,
    inflow: np.ndarray | None = None,
    flow_factor: np.ndarray | None = None,
) -> np.ndarray:
    """Complex multi-compartment MDME signal (before receive bias and phase).

    Parameters
    ----------
    fractions : numpy.ndarray, shape (C, ...)
        Compartment fractions.
    t1, t2, pd : numpy.ndarray, shape (C,)
        Relaxation values per compartment (ms, ms, water = 1).
    b1 : numpy.ndarray, shape (...)
        B1 ratio.
    protocol : MDMEProtocol
    csf_index : int, optional
        Compartment perturbed by flow (see :mod:`synflair.phantom.flow`).
    inflow : numpy.ndarray, shape (V, ...), optional
        Inflow fraction per image.
    flow_factor : numpy.ndarray of complex, shape (V, ...), optional
        Complex factor per image.

    Returns
    -------
    numpy.ndarray of complex64, shape (V, ...)
        ``V = protocol.n_volumes`` images in delay-major order; the sum of signed
        compartment signals weighted by their fractions.
    """
    fractions = np.asarray(fractions, dtype=np.float32)
    b1 = np.asarray(b1, dtype=np.float32)
    total = np.zeros((protocol.n_volumes, *b1.shape), dtype=np.complex64)
    te = protocol.volume_te.reshape((-1,) + (1,) * b1.ndim)
    for c in range(fractions.shape[0]):
        signal = np.moveaxis(protocol.signal(t1[c], t2[c], pd[c], b1), -1, 0).astype(np.float32)
        if c == csf_index and inflow is not None:
            fresh = (pd[c] * np.exp(-te / t2[c])).astype(np.float32)
            signal = (1.0 - inflow) * signal + inflow * fresh
        contribution = fractions[c] * signal
        if c == csf_index and flow_factor is not None:
            total += contribution * flow_factor
        else:
            total += contribution
    return total


def flair_signal(
    fractions: np.ndarray,
    t1: np.ndarray,
    t2: np.ndarray,
    pd: np.ndarray,
    protocol: InversionRecoveryProtocol = CONVENTIONAL_FLAIR,
) -> np.ndarray:
    """Signed multi-compartment inversion-recovery signal (take the magnitude after noise).

    Parameters
    ----------
    fractions : numpy.ndarray, shape (C, ...)
    t1, t2, pd : numpy.ndarray, shape (C,)
    protocol : InversionRecoveryProtocol

    Returns
    -------
    numpy.ndarray of float32, shape (...)
    """
    weights = ir_signed(t1, t2, pd, tr=protocol.tr, te=protocol.te, ti=protocol.ti)
    return np.tensordot(weights.astype(np.float32), np.asarray(fractions, np.float32), axes=1)
