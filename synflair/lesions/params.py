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
        The belief of hyperintensity ramps linearly from 0 at a robust z-score of
        ``z_low`` to 1 at ``z_high`` (z of the FLAIR intensity relative to the
        tissue-mixture intensity expected from the GM/WM/CSF probabilities).
    heterogeneity : float
        Relative SD of normal tissue intensity added (in quadrature) to the measured
        spread of each tissue: a voxel is only hyperintense when it is brighter than
        the expected intensity by a margin that no denoising or interpolation of the
        image can shrink (0.05: about 10-30% brighter for ``z_low``-``z_high``).
    gm_floor : bool
        Score hyperintensity against the larger of the tissue-mixture intensity and
        the intensity the voxel would have if its parenchyma were all GM (the
        brightest normal tissue of FLAIR), so that GM/WM boundary voxels that a sharp
        segmentation labels WM are not hyperintense. The lesion boundary
        (``boundary_fraction``) is still set on the tissue-mixture z.
    kappa : float
        Initial threshold: voxels with belief >= ``kappa`` seed lesions (LST's kappa).
    grow_threshold : float
        Lesions grow into neighbouring voxels with belief >= ``grow_threshold``
        (<= ``kappa``).
    purity : float
        Tissue probability above which a voxel counts as pure tissue for the robust
        intensity statistics of that tissue.
    max_csf_prob : float
        Voxels with CSF probability above this are never lesion (lesions are in GM or WM).
    boundary_fraction : float
        Each grown lesion is trimmed to the voxels whose z-score is at least this fraction
        of the lesion's peak z: with intensity linear in the lesion fraction, 0.5 puts
        the boundary where half the voxel is lesion (0: no trimming).
    min_volume_mm3 : float
        Lesions (connected components) smaller than this are removed.
    connectivity : {1, 2, 3}
        Neighbourhood of growth and of connected components: face (6), edge (18) or
        corner (26) neighbours.
    bias_degree : int
        Degree of the polynomial (in log intensity) of the smooth multiplicative bias
        (receive-coil profile) removed before scoring; 0 switches the correction off.
    smoothing_mm : float
        Gaussian denoising of the FLAIR before the z-scores (0: none).
    min_tissue_voxels : int
        Fewest pure voxels per tissue for its statistics.
    """

    z_low: float = 3.0
    z_high: float = 7.0
    heterogeneity: float = 0.05
    gm_floor: bool = True
    kappa: float = 0.5
    grow_threshold: float = 0.15
    purity: float = 0.9
    max_csf_prob: float = 0.5
    boundary_fraction: float = 0.5
    min_volume_mm3: float = 10.0
    connectivity: int = 1
    bias_degree: int = 3
    smoothing_mm: float = 0.0
    min_tissue_voxels: int = 50

    def __post_init__(self):
        def check(name, ok, expected):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not ok(value):
                raise ValueError(f"{name} must be {expected}, not {value!r}")

        check("z_low", math.isfinite, "a finite number")
        check("z_high", lambda v: math.isfinite(v) and v > self.z_low, "finite and > z_low")
        check("heterogeneity", lambda v: 0 <= v < 1, "in [0, 1)")
        if not isinstance(self.gm_floor, bool):
            raise ValueError(f"gm_floor must be True or False, not {self.gm_floor!r}")
        check("kappa", lambda v: 0 < v <= 1, "in (0, 1]")
        check("grow_threshold", lambda v: 0 < v <= self.kappa, "in (0, kappa]")
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
        for name in ("connectivity", "bias_degree", "min_tissue_voxels"):
            object.__setattr__(self, name, int(getattr(self, name)))

    def to_dict(self) -> dict:
        """Plain dict (for the JSON sidecar)."""
        return asdict(self)
