"""CSF flow perturbations of the MDME images: the origin of synthetic FLAIR's granular artifact.

CSF pulsates with the cardiac cycle. During the long saturation delays of the
MDME sequence, moving CSF spins leave and enter the slice between saturation
and readout and dephase in the imaging gradients. Each of the 8 MDME images is
acquired at a different time, so the perturbation differs from image to image;
a single-compartment fit of such a voxel returns wrong T1/T2/PD, and the
synthetic FLAIR shows granular hyperintensities in the CSF (Hagiwara et al.
2019, Fig 3; Tanenbaum et al., AJNR 2017;38:1103). The conventional FLAIR
acquires its whole k-space with the CSF nulled and shows no such dots; it is not
perturbed.

Model, per MDME image ``n`` and CSF position ``x``::

    S_csf(n, x) = [(1 - q) S_csf(n) + q S_fresh(n)] (1 - l) exp(i phi)

with ``S_fresh = PD exp(-TE/T2)`` the signal of unsaturated, fully relaxed
spins, and inflow fraction ``q``, signal loss ``l`` and phase ``phi`` non-zero
in granular spots: a Gaussian random field (correlation length
``correlation_mm``) above the threshold that covers ``fraction`` of the area.
The perturbation is stronger in ventricles and cisterns (``propensity``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FlowPerturbation", "draw_flow", "flow_maps"]


@dataclass(frozen=True)
class FlowPerturbation:
    """Strength and spatial pattern of the CSF flow perturbations of one subject.

    Attributes
    ----------
    fraction : float
        Fraction of the CSF area in spots, per image (0 disables the model).
    inflow : float
        Largest inflow fraction ``q`` in a spot.
    loss : float
        Largest fractional signal loss ``l`` in a spot.
    phase_rad : float
        Standard deviation of ``phi`` in a spot, rad.
    correlation_mm : float
        Gaussian correlation length of the spots, mm.
    seed : int
        Seed of the random fields (so the fields are a deterministic function of
        this object, the slice and the grid).
    """

    fraction: float
    inflow: float
    loss: float
    phase_rad: float
    correlation_mm: float
    seed: int

    def __post_init__(self):
        for name in ("fraction", "inflow", "loss"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], not {value!r}")
        if self.phase_rad < 0 or self.correlation_mm <= 0:
            raise ValueError(
                "phase_rad must be >= 0 and correlation_mm > 0, not "
                f"{(self.phase_rad, self.correlation_mm)!r}"
            )


def draw_flow(
    rng: np.random.Generator,
    fraction: float,
    inflow: float,
    loss: float,
    phase_rad: float,
    correlation_mm: float = 1.5,
) -> FlowPerturbation:
    """Draw a subject's flow perturbation: each strength x U(0.5, 1.5) (capped at 1).

    Subjects differ in CSF pulsatility (age, heart rate), hence in how strongly
    the artifact shows (Tanenbaum 2017: in up to 59 % of synthetic FLAIR images).
    """
    factors = rng.uniform(0.5, 1.5, 4)
    return FlowPerturbation(
        fraction=float(min(fraction * factors[0], 1.0)),
        inflow=float(min(inflow * factors[1], 1.0)),
        loss=float(min(loss * factors[2], 1.0)),
        phase_rad=float(phase_rad * factors[3]),
        correlation_mm=float(correlation_mm),
        seed=int(rng.integers(0, 2**63 - 1)),
    )


def _spots(rng, shape, sigma_px, fraction) -> tuple[np.ndarray, np.ndarray]:
    """A soft spot map in [0, 1] covering ``fraction`` of the area, and a unit normal field."""
    from scipy import ndimage, special

    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_px, mode="wrap")
    field /= max(float(field.std()), 1e-12)
    threshold = float(special.ndtri(1.0 - fraction))
    spots = np.clip((field - threshold) / 0.5 + 0.5, 0.0, 1.0)
    other = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_px, mode="wrap")
    other /= max(float(other.std()), 1e-12)
    return spots, other


def flow_maps(
    flow: FlowPerturbation,
    shape: tuple[int, int],
    spacing_mm: float,
    n_images: int,
    slice_index: int,
    propensity: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inflow fraction and complex factor of the CSF compartment for one slice.

    Parameters
    ----------
    flow : FlowPerturbation
    shape : (int, int)
        In-plane grid shape.
    spacing_mm : float
        Grid spacing, mm.
    n_images : int
        Number of MDME images (8).
    slice_index : int
        Which slice (the fields differ between slices).
    propensity : numpy.ndarray, shape ``shape``, optional
        Relative strength in [0, 1] (default 1 everywhere).

    Returns
    -------
    inflow : numpy.ndarray of float32, shape (n_images, *shape)
        ``q`` in [0, 1].
    factor : numpy.ndarray of complex64, shape (n_images, *shape)
        ``(1 - l) exp(i phi)``.
    """
    inflow = np.zeros((n_images, *shape), dtype=np.float32)
    factor = np.ones((n_images, *shape), dtype=np.complex64)
    if flow.fraction == 0:
        return inflow, factor
    rng = np.random.default_rng([flow.seed, int(slice_index)])
    strength = 1.0 if propensity is None else np.clip(propensity, 0.0, 1.0)
    sigma_px = flow.correlation_mm / spacing_mm
    for n in range(n_images):
        spots, other = _spots(rng, shape, sigma_px, flow.fraction)
        spots = spots * strength
        amount = rng.uniform(0.3, 1.0, 2)
        inflow[n] = flow.inflow * amount[0] * spots
        loss = flow.loss * amount[1] * spots
        phase = flow.phase_rad * other * spots
        factor[n] = (1.0 - loss) * np.exp(1j * phase)
    return inflow, factor
