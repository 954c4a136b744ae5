"""Acquisition geometry and model settings of the phantom presets ``paper``, ``demo`` and ``ci``.

The ``paper`` preset follows Hagiwara et al. (AJNR 2019): 30 axial slices of
4 mm with a 1 mm gap, FOV 240 mm, MDME acquired 320x320 and conventional
FLAIR 320x224, both reconstructed to 512x512, 40 subjects. ``demo`` and ``ci``
keep the physics and shrink the matrices and the slab so that the whole
workflow runs in minutes on a laptop.

Matrices are given as ``(n_i, n_j)`` in the :mod:`synflair.geometry` data
convention (``i``: DICOM column index, along the patient's right-to-left axis;
``j``: row index, anterior-to-posterior). The FLAIR's 224 phase-encoding steps
run along ``i`` (left-right), as usual for axial brain imaging.

Noise is specified once, for the paper's acquisition voxel, and scaled to the
other presets by the physics of SNR: for a fixed FOV, slice thickness, echo
train and bandwidth per pixel, SNR is proportional to the voxel volume times
the square root of the number of acquired k-space samples, i.e. to
``1 / sqrt(n_i * n_j)`` (Edelstein et al., Magn Reson Med 1986;3:604-618).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

__all__ = [
    "PRESETS",
    "Geometry",
    "ModelSettings",
    "PhantomPreset",
    "get_preset",
]

#: The paper's acquisition matrices, used to scale noise to other presets.
_PAPER_MDME_MATRIX = (320, 320)
_PAPER_FLAIR_MATRIX = (224, 320)


def _positive_pair(name: str, value) -> tuple[int, int]:
    pair = tuple(int(v) for v in value)
    if len(pair) != 2 or any(v < 2 or v % 2 for v in pair):
        raise ValueError(f"{name} must be two even integers >= 2, not {value!r}")
    return pair


@dataclass(frozen=True)
class Geometry:
    """Slice prescription, shared by the MDME and the conventional FLAIR series.

    Attributes
    ----------
    n_slices : int
        Number of axial slices.
    slice_thickness, slice_gap : float
        mm. Consecutive slice centres are ``slice_thickness + slice_gap`` apart.
    fov : float
        Square field of view, mm.
    recon_matrix : (int, int)
        Reconstruction matrix ``(n_i, n_j)`` (zero-filled).
    mdme_matrix, flair_matrix : (int, int)
        Acquisition matrices ``(n_i, n_j)``; each at most ``recon_matrix``.
    oversample : int
        The signal is simulated on a grid ``oversample`` times finer than the
        reconstruction grid, then k-space truncated to the acquisition matrix.
    center_mni : (float, float, float)
        Centre of the slab and of the FOV, in template (MNI152, RAS mm)
        coordinates, for a subject in the template pose.
    profile_samples : int
        Points through the slice profile (spacing about 1 mm).
    """

    n_slices: int
    slice_thickness: float
    slice_gap: float
    fov: float
    recon_matrix: tuple[int, int]
    mdme_matrix: tuple[int, int]
    flair_matrix: tuple[int, int]
    oversample: int = 1
    center_mni: tuple[float, float, float] = (0.0, -15.0, 6.0)
    profile_samples: int = 7

    def __post_init__(self):
        if int(self.n_slices) < 1:
            raise ValueError(f"n_slices must be >= 1, not {self.n_slices!r}")
        if self.slice_thickness <= 0 or self.slice_gap < 0:
            raise ValueError(
                "slice_thickness must be > 0 and slice_gap >= 0 mm, not "
                f"{self.slice_thickness!r} / {self.slice_gap!r}"
            )
        if self.fov <= 0:
            raise ValueError(f"fov must be > 0 mm, not {self.fov!r}")
        for name in ("recon_matrix", "mdme_matrix", "flair_matrix"):
            object.__setattr__(self, name, _positive_pair(name, getattr(self, name)))
        for name in ("mdme_matrix", "flair_matrix"):
            if any(a > r for a, r in zip(getattr(self, name), self.recon_matrix, strict=True)):
                raise ValueError(
                    f"{name} must not exceed recon_matrix {self.recon_matrix}, "
                    f"not {getattr(self, name)!r}"
                )
        if int(self.oversample) < 1:
            raise ValueError(f"oversample must be >= 1, not {self.oversample!r}")
        if int(self.profile_samples) < 1:
            raise ValueError(f"profile_samples must be >= 1, not {self.profile_samples!r}")
        object.__setattr__(self, "center_mni", tuple(float(v) for v in self.center_mni))

    @property
    def slice_step(self) -> float:
        """Distance between consecutive slice centres, mm."""
        return float(self.slice_thickness + self.slice_gap)

    @property
    def pixel_spacing(self) -> tuple[float, float]:
        """Reconstructed pixel size ``(along i, along j)``, mm."""
        return (self.fov / self.recon_matrix[0], self.fov / self.recon_matrix[1])

    @property
    def sim_matrix(self) -> tuple[int, int]:
        """Matrix of the fine simulation grid."""
        return tuple(n * self.oversample for n in self.recon_matrix)


@dataclass(frozen=True)
class ModelSettings:
    """Ranges of the per-subject random draws and the noise level (calibrated, docs/phantom.md).

    Attributes
    ----------
    max_lesions : int
        Each subject gets ``0 .. max_lesions`` lesions (uniform).
    lesion_severity : (float, float)
        Range of a lesion's abnormal-tissue share at its centre (the rest is
        normal-appearing white matter); see :mod:`synflair.phantom.lesions`.
    lesion_edge : float
        Abnormal share at a lesion's border relative to its centre (< 1: brighter core).
    black_hole_fraction : float
        Probability that a lesion is a "black hole" with a free-water core.
    black_hole_fluid : (float, float)
        Range of a black hole's free-water share at its centre.
    tissue_spread : float
        Relative standard deviation of T1, T2 and PD between subjects.
    deformation_mm : float
        Standard deviation of each component of the smooth deformation, mm.
    deformation_smoothness_mm : float
        Gaussian correlation length of the deformation, mm.
    rotation_deg, translation_mm : (float, float, float)
        Half-ranges of the head pose about/along RAS x, y, z.
    scale_range : (float, float)
        Range of the global head scale (the MNI152 template is larger than an
        average head).
    atrophy_sulcal_mm, atrophy_ventricular_mm : (float, float)
        Ranges of the parenchymal surface retreat next to sulcal and ventricular CSF.
    motion_rotation_deg, motion_translation_mm : float
        Largest head rotation (per axis) and translation (per axis) between the
        MDME and the conventional FLAIR.
    b1_deviation : (float, float)
        Range of the largest deviation of the B1 ratio from 1 inside the head.
    bias_strength : float
        Scale of the random log receive bias coefficients of the MDME series.
    coil_gain : (float, float)
        Range of the radial receive-array gain of the MDME raw images (not
        intensity-corrected; see :func:`synflair.phantom.fields.draw_receive_bias`).
    flair_bias_strength : float
        Scale of the residual receive bias of the conventional FLAIR, an
        independent field after the scanner's intensity correction (no radial gain).
    mdme_noise, flair_noise : float
        Standard deviation of the complex noise per channel (real and imaginary)
        in the reconstructed image, relative to the fully relaxed signal of PD 1,
        for the paper's acquisition matrices (scaled for other matrices).
    flow_fraction : float
        Fraction of the CSF area hit by flow perturbations in each MDME image.
    flow_inflow : float
        Largest fraction of fresh (unsaturated) CSF spins in a perturbed spot.
    flow_loss : float
        Largest fractional signal loss (intravoxel dephasing) in a perturbed spot.
    flow_phase_rad : float
        Standard deviation of the flow-induced phase in a perturbed spot, rad.
    """

    max_lesions: int = 30
    lesion_severity: tuple[float, float] = (0.7, 1.0)
    lesion_edge: float = 0.7
    black_hole_fraction: float = 0.25
    black_hole_fluid: tuple[float, float] = (0.2, 0.6)
    tissue_spread: float = 0.05
    deformation_mm: float = 2.0
    deformation_smoothness_mm: float = 20.0
    rotation_deg: tuple[float, float, float] = (6.0, 3.0, 4.0)
    translation_mm: tuple[float, float, float] = (3.0, 5.0, 4.0)
    scale_range: tuple[float, float] = (0.86, 0.98)
    atrophy_sulcal_mm: tuple[float, float] = (0.3, 1.6)
    atrophy_ventricular_mm: tuple[float, float] = (0.3, 2.5)
    motion_rotation_deg: float = 3.0
    motion_translation_mm: float = 3.0
    b1_deviation: tuple[float, float] = (0.05, 0.15)
    bias_strength: float = 0.08
    coil_gain: tuple[float, float] = (0.4, 0.9)
    flair_bias_strength: float = 0.05
    mdme_noise: float = 0.01
    flair_noise: float = 0.008
    flow_fraction: float = 0.04
    flow_inflow: float = 0.15
    flow_loss: float = 0.2
    flow_phase_rad: float = 0.4

    def __post_init__(self):
        if int(self.max_lesions) < 0:
            raise ValueError(f"max_lesions must be >= 0, not {self.max_lesions!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if any(not math.isfinite(v) or v < 0 for v in values):
                raise ValueError(f"{f.name} must be finite and >= 0, not {value!r}")
        ranges = ("scale_range", "atrophy_sulcal_mm", "atrophy_ventricular_mm", "b1_deviation")
        for name in (*ranges, "coil_gain", "lesion_severity", "black_hole_fluid"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(
                    f"{name} must be (low, high) with low <= high, not {(low, high)!r}"
                )
        if not 0 <= self.flow_fraction <= 1:
            raise ValueError(f"flow_fraction must be in [0, 1], not {self.flow_fraction!r}")
        if not (0 < self.lesion_severity[0] and self.lesion_severity[1] <= 1):
            raise ValueError(f"lesion_severity must lie in (0, 1], not {self.lesion_severity!r}")
        if self.black_hole_fluid[1] >= 1:
            raise ValueError(f"black_hole_fluid must lie in [0, 1), not {self.black_hole_fluid!r}")
        for name in ("lesion_edge", "black_hole_fraction"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name} must be in [0, 1], not {getattr(self, name)!r}")


@dataclass(frozen=True)
class PhantomPreset:
    """A named phantom configuration: geometry, default cohort size and model settings."""

    name: str
    geometry: Geometry
    n_subjects: int
    model: ModelSettings = field(default_factory=ModelSettings)

    def noise_sigma(self, series: str) -> float:
        """Complex noise standard deviation (per channel) of ``series`` ("mdme" or "flair").

        The model's value is for the paper's acquisition matrix; it is scaled by
        ``sqrt(n_i n_j / (n_i n_j)_paper)`` times the ratio of voxel volumes
        (SNR proportional to voxel volume times the square root of the number of
        samples, at a fixed slice thickness, FOV and bandwidth per pixel).
        """
        if series == "mdme":
            sigma, matrix, paper = (
                self.model.mdme_noise,
                self.geometry.mdme_matrix,
                _PAPER_MDME_MATRIX,
            )
        elif series == "flair":
            sigma = self.model.flair_noise
            matrix, paper = self.geometry.flair_matrix, _PAPER_FLAIR_MATRIX
        else:
            raise ValueError(f"series must be 'mdme' or 'flair', not {series!r}")
        samples = matrix[0] * matrix[1]
        paper_samples = paper[0] * paper[1]
        volume_ratio = (samples / paper_samples) * (240.0 / self.geometry.fov) ** 2
        volume_ratio *= 4.0 / self.geometry.slice_thickness
        return float(sigma * volume_ratio / math.sqrt(samples / paper_samples))


#: The paper's protocol geometry (Hagiwara et al. 2019: 30 slices of 4 mm, 1 mm gap, 240 mm FOV).
PAPER_GEOMETRY = Geometry(
    n_slices=30,
    slice_thickness=4.0,
    slice_gap=1.0,
    fov=240.0,
    recon_matrix=(512, 512),
    mdme_matrix=_PAPER_MDME_MATRIX,
    flair_matrix=_PAPER_FLAIR_MATRIX,
    oversample=1,
    center_mni=(0.0, -15.0, 6.0),
)


def _scaled(n_slices: int, recon: int, mdme: int, flair: tuple[int, int], center_z: float):
    """The paper's slab (slice thickness, gap, FOV) with fewer slices and smaller matrices."""
    return replace(PAPER_GEOMETRY, n_slices=n_slices, recon_matrix=(recon, recon),
                   mdme_matrix=(mdme, mdme), flair_matrix=flair, oversample=2,
                   center_mni=(0.0, -15.0, float(center_z)))  # fmt: skip


PRESETS: dict[str, PhantomPreset] = {
    "paper": PhantomPreset(name="paper", geometry=PAPER_GEOMETRY, n_subjects=40),
    "demo": PhantomPreset("demo", _scaled(12, 192, 120, (84, 120), 12), n_subjects=12),
    "ci": PhantomPreset("ci", _scaled(6, 96, 64, (44, 64), 14), n_subjects=4),
}


def get_preset(name: str, **model_overrides) -> PhantomPreset:
    """The preset called ``name``, optionally with some :class:`ModelSettings` replaced.

    Raises
    ------
    ValueError
        For an unknown preset name or model setting.
    """
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, not {name!r}")
    preset = PRESETS[name]
    if model_overrides:
        known = {f.name for f in fields(ModelSettings)}
        unknown = sorted(set(model_overrides) - known)
        if unknown:
            raise ValueError(f"unknown model settings {unknown}; expected some of {sorted(known)}")
        preset = replace(preset, model=replace(preset.model, **model_overrides))
    return preset
