"""Parameters of the lesion segmentation, validated when built."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LesionParams:
    """Parameters of :func:`synflair.lesions.segment_lesions`.

    The same parameters are applied to synthetic, DL and conventional FLAIR.

    Attributes
    ----------
    z_low, z_high : float
        The belief of lesion ramps linearly from 0 at a hyperintensity score of
        ``z_low`` to 1 at ``z_high``; the score is the FLAIR intensity above the
        brighter of the subject's GM and WM modes, in (effective) robust WM SDs
        (:mod:`synflair.lesions.belief`).
    heterogeneity : float
        Least relative SD of normal tissue: the score's SD is the larger of the measured
        WM spread and ``heterogeneity`` times the reference, so that an almost noise-free
        image does not make tiny contrasts lesions.
    kappa : float
        Initial threshold (LST's kappa): voxels with belief >= ``kappa`` seed lesions.
        With the defaults a seed is 2.4 SDs above the brighter of GM and WM.
    grow_threshold : float
        Lesions grow into neighbouring voxels with belief >= ``grow_threshold``
        (<= ``kappa``).
    t1_growth_z : float
        Lesions also grow into neighbouring T1-hypointense voxels (WM probability
        < 0.5: labelled GM or CSF by the T1w/R1 segmentation) whose hyperintensity
        score is at least this, below the score of ``grow_threshold`` (LST-LGA's growth
        into T1-hypointense, FLAIR-hyperintense voxels).
    purity : float
        Tissue probability above which a voxel counts as pure tissue for the robust
        intensity statistics of that tissue.
    max_csf_prob : float
        Voxels with CSF probability above this never seed a lesion.
    boundary_fraction : float
        Each grown lesion is trimmed to the voxels whose contrast above the WM mode is at
        least this fraction of the lesion's peak contrast (about where a voxel is half
        lesion, half the surrounding WM; 0: no trimming).
    min_volume_mm3 : float
        Lesions (connected components) smaller than this are removed.
    connectivity : {1, 2, 3}
        Neighbourhood of growth and of connected components: face (6), edge (18) or
        corner (26) neighbours.
    bias_degree : int
        Degree of the polynomial (in log intensity) of the smooth multiplicative bias
        (receive-coil profile) removed before scoring; 0 switches the correction off.
    smoothing_mm : float
        Gaussian denoising (SD, mm) of the FLAIR inside the mask before scoring (0: none).
    min_tissue_voxels : int
        Fewest pure voxels per tissue for its statistics.
    local_mm : float
        Gaussian SD (mm) of the neighbourhood whose white matter sets each voxel's
        reference (regional WM intensity: posterior fossa, residual bias); the GM/WM
        ratio of the whole brain scales it to the ceiling (0: one global reference).
    ribbon_mm : float
        Voxels within this distance of the outer CSF (sulci, brain surface; not the
        ventricles) never seed a lesion: the cortical ribbon (:mod:`synflair.lesions.anatomy`).
    ventricle_depth_mm : float
        Thick CSF whose median distance from the brain surface is at least this is a
        ventricle (lesions may touch it).
    wm_shell_fraction : float
        A lesion is kept only when at least this fraction of a ``shell_mm`` shell around
        it is WM (it is embedded in white matter; 0: off).
    shell_mm : float
        Width of that shell.
    shell_exempt_z : float
        Lesions whose peak score reaches this are kept whatever surrounds them (far
        brighter than any cortex: small bright lesions on thick slices, whose shell is
        mostly partial volume).
    gm_peak_z : float
        A lesion whose voxels are mostly not WM (mean WM probability < 0.5: labelled GM
        or CSF by the T1/R1 segmentation) needs a peak score of at least this: a faint
        hyperintensity there is normal GM variation, a T1-hypointense lesion is brighter.
    min_mean_z : float
        A lesion is kept only when its mean hyperintensity score is at least this.
    local_seed_score : float
        Local-contrast seeds (0: off): a voxel whose multi-scale local contrast against
        its immediate WM surroundings (:func:`synflair.lesions.contrast.local_contrast`)
        is at least this, and whose score is at least ``local_seed_z``, also seeds a
        lesion, below ``kappa`` (small lesions are local maxima; broad bright normal WM
        is not). Measured on patient19 and the phantom, it did not help (docs/lesions.md).
    local_seed_z : float
        Least hyperintensity score of a local-contrast seed.
    """

    z_low: float = 1.0
    z_high: float = 3.0
    heterogeneity: float = 0.05
    kappa: float = 0.7
    grow_threshold: float = 0.05
    t1_growth_z: float = 0.5
    purity: float = 0.9
    max_csf_prob: float = 0.5
    boundary_fraction: float = 0.4
    min_volume_mm3: float = 5.0
    connectivity: int = 1
    bias_degree: int = 3
    smoothing_mm: float = 0.5
    min_tissue_voxels: int = 50
    local_mm: float = 0.0
    ribbon_mm: float = 2.0
    ventricle_depth_mm: float = 15.0
    wm_shell_fraction: float = 0.4
    shell_mm: float = 2.0
    shell_exempt_z: float = 5.0
    gm_peak_z: float = 3.0
    min_mean_z: float = 1.6
    local_seed_score: float = 0.0
    local_seed_z: float = 1.5

    def __post_init__(self):
        def check(name, ok, expected):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not ok(value):
                raise ValueError(f"{name} must be {expected}, not {value!r}")

        check("z_low", math.isfinite, "a finite number")
        check("z_high", lambda v: math.isfinite(v) and v > self.z_low, "finite and > z_low")
        check("heterogeneity", lambda v: 0 <= v < 1, "in [0, 1)")
        check("kappa", lambda v: 0 < v <= 1, "in (0, 1]")
        check("grow_threshold", lambda v: 0 < v <= self.kappa, "in (0, kappa]")
        check("t1_growth_z", math.isfinite, "a finite number")
        check("purity", lambda v: 0.5 <= v < 1, "in [0.5, 1)")
        check("max_csf_prob", lambda v: 0 < v <= 1, "in (0, 1]")
        check("boundary_fraction", lambda v: 0 <= v < 1, "in [0, 1)")
        check("min_volume_mm3", lambda v: math.isfinite(v) and v >= 0, "a volume >= 0 mm^3")
        check("connectivity", lambda v: v in (1, 2, 3), "1, 2 or 3")
        check(
            "bias_degree",
            lambda v: math.isfinite(v) and int(v) == v and 0 <= v <= 6,
            "an integer in [0, 6]",
        )
        check("smoothing_mm", lambda v: math.isfinite(v) and v >= 0, ">= 0 mm")
        check(
            "min_tissue_voxels",
            lambda v: math.isfinite(v) and int(v) == v and v >= 2,
            "an integer >= 2",
        )
        check("local_mm", lambda v: math.isfinite(v) and v >= 0, ">= 0 mm")
        check("ribbon_mm", lambda v: math.isfinite(v) and v >= 0, ">= 0 mm")
        check("ventricle_depth_mm", lambda v: math.isfinite(v) and v >= 0, ">= 0 mm")
        check("wm_shell_fraction", lambda v: 0 <= v <= 1, "in [0, 1]")
        check("shell_mm", lambda v: math.isfinite(v) and v > 0, "> 0 mm")
        check("shell_exempt_z", math.isfinite, "a finite number")
        check("gm_peak_z", math.isfinite, "a finite number")
        check("min_mean_z", math.isfinite, "a finite number")
        check("local_seed_score", lambda v: math.isfinite(v) and v >= 0, ">= 0 (0: off)")
        check("local_seed_z", math.isfinite, "a finite number")
        for name in ("connectivity", "bias_degree", "min_tissue_voxels"):
            object.__setattr__(self, name, int(getattr(self, name)))

    def to_dict(self) -> dict:
        """Plain dict (for the JSON sidecar)."""
        return asdict(self)
