"""One subject's metrics: PSNR and NRMSE per image and region, lesion overlap, in one tidy table.

Regions (the paper: "Each tissue map and intracranial mask were used to
extract the PSNR and NRMSE metrics in the GM, WM, CSF, and aggregate
intracranial tissues") come from the hard labels of the tissue segmentation
(``*_dseg.nii.gz``: 1 CSF, 2 GM, 3 WM) inside the intracranial mask.

Intensity scaling is explicit: every metric is computed twice, on the images
as they are (``scaling = "raw"``) and after bringing each image and the
reference to the common scale of :func:`synflair.intensity.to_common_scale`
over the intracranial mask (``scaling = "common"``); the factor applied to the
image is in ``scale_factor``.

NRMSE denominator (the paper is ambiguous about regions): by default the mean
of the image under test inside the *intracranial* mask for every region (the
paper divides "by the mean signal intensity of synthetic and DL-FLAIR images
... after applying the intracranial masks"); ``nrmse_normalizer = "region"``
divides by the mean inside the region instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synflair.errors import SynflairError
from synflair.intensity import INTRACRANIAL_MEAN, to_common_scale
from synflair.lesions.detection import lesion_detection
from synflair.metrics.contrast import MIN_LESION_VOXELS, lesion_nawm_ratio, nawm_mask
from synflair.metrics.image import PAPER_PEAK
from synflair.metrics.overlap import dice
from synflair.metrics.table import COLUMNS, REGIONS, SCALING_NONE

#: Labels of the segmentation's hard label map (``*_dseg.nii.gz``).
DSEG_LABELS = {"CSF": 1, "GM": 2, "WM": 3}
SCALINGS = ("raw", "common")
NORMALIZERS = ("intracranial", "region")
#: ``region`` of the lesion-overlap rows.
LESION_REGION = "lesions"


@dataclass(frozen=True)
class MetricsConfig:
    """How the metrics are computed.

    Attributes
    ----------
    peak : float
        PSNR peak intensity (the paper: 25,500).
    scalings : tuple of {"raw", "common"}
        Intensity scalings reported.
    target_mean : float
        Intracranial mean of the common scale.
    nrmse_normalizer : {"intracranial", "region"}
        Mask of the NRMSE denominator (mean of the image under test).
    reference_name : str
        Name of the reference image in the table (its ``mean`` rows) and of the
        reference lesion map (the ``dice_<reference_name>`` metrics).
    nawm_margin : int
        In-plane dilation (voxels) of a lesion map removed from WM to give the
        normal-appearing WM of the lesion-contrast rows (:mod:`synflair.metrics.contrast`).
    reference_fov : bool
        Evaluate only voxels where the reference is not exactly 0. A registered
        conventional FLAIR is 0 where the synthetic grid lies outside the field of view
        it was acquired with (resampling fills with 0; inside the head a magnitude image
        is never exactly 0): those voxels have no reference value, and counting them
        charges every image with the full intensity of tissue the reference never imaged
        (on the demo one edge slice, 3 % of the mask but two thirds of the DL-FLAIR's
        squared error). The intensity scaling uses the same voxels.
    """

    peak: float = PAPER_PEAK
    scalings: tuple[str, ...] = SCALINGS
    target_mean: float = INTRACRANIAL_MEAN
    nrmse_normalizer: str = "intracranial"
    reference_name: str = "conventional"
    nawm_margin: int = 2
    reference_fov: bool = True

    def __post_init__(self):
        if not (np.isfinite(self.peak) and self.peak > 0):
            raise ValueError(f"peak must be a positive intensity, not {self.peak!r}")
        scalings = tuple(self.scalings)
        if not scalings or any(s not in SCALINGS for s in scalings):
            raise ValueError(f"scalings must be a non-empty subset of {SCALINGS}, not {scalings!r}")
        object.__setattr__(self, "scalings", scalings)
        if not (np.isfinite(self.target_mean) and self.target_mean > 0):
            raise ValueError(f"target_mean must be positive, not {self.target_mean!r}")
        if self.nrmse_normalizer not in NORMALIZERS:
            raise ValueError(
                f"nrmse_normalizer must be one of {NORMALIZERS}, not {self.nrmse_normalizer!r}"
            )
        if not self.reference_name:
            raise ValueError(f"reference_name must be non-empty, not {self.reference_name!r}")
        margin = self.nawm_margin
        if isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
            raise ValueError(f"nawm_margin must be an integer >= 0 voxels, not {margin!r}")


#: The paper's settings.
DEFAULT_METRICS = MetricsConfig()


def region_masks(dseg: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks of GM, WM, CSF (hard labels inside ``mask``) and the intracranial mask.

    Parameters
    ----------
    dseg : numpy.ndarray of int, 3D
        Label map, 0 background, 1 CSF, 2 GM, 3 WM.
    mask : numpy.ndarray of bool, same shape
        Intracranial mask.

    Returns
    -------
    dict of str -> numpy.ndarray of bool
        Keys :data:`REGIONS`; a region may be empty.
    """
    dseg = np.asarray(dseg)
    mask = np.asarray(mask, dtype=bool)
    if dseg.shape != mask.shape:
        raise SynflairError(
            f"segmentation has shape {dseg.shape} but the mask has {mask.shape}; "
            "expected the same voxel grid"
        )
    if not np.all(np.isfinite(dseg)) or not np.all(np.equal(np.mod(dseg, 1), 0)):
        raise SynflairError("segmentation labels must be integers (0, 1 CSF, 2 GM, 3 WM)")
    found = set(np.unique(dseg).astype(int).tolist())
    unknown = sorted(found - {0, *DSEG_LABELS.values()})
    if unknown:
        raise SynflairError(
            f"segmentation has label(s) {unknown}; expected 0 and 1 CSF, 2 GM, 3 WM"
        )
    regions = {name: (dseg == label) & mask for name, label in DSEG_LABELS.items()}
    regions["intracranial"] = mask
    return {name: regions[name] for name in REGIONS}


def _check_image(image: np.ndarray, mask: np.ndarray, name: str) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.shape != mask.shape:
        raise SynflairError(
            f"{name} has shape {image.shape} but the mask has {mask.shape}; "
            "expected the same voxel grid"
        )
    inside = image[mask]
    if not np.all(np.isfinite(inside)):
        raise SynflairError(f"{name} has NaN or infinite values inside the intracranial mask")
    if not np.any(inside != 0):
        raise SynflairError(
            f"{name} is zero everywhere inside the intracranial mask; "
            "does the mask belong to this image?"
        )
    return image


def _image_rows(subject, name, image, reference, regions, factor, scaling, config, fov_note=""):
    rows = []

    def row(region, metric, value, n, note=""):
        note = "; ".join(x for x in (note, fov_note) if x)
        rows.append((subject, name, region, scaling, metric, value, n, factor, note))

    ic_mean = float(image[regions["intracranial"]].mean())
    for region, where in regions.items():
        n = int(where.sum())
        if n == 0:
            note = f"empty region: no {region} voxels inside the intracranial mask"
            for metric in ("psnr", "nrmse", "mean"):
                row(region, metric, math.nan, 0, note)
            continue
        error = float(np.mean((image[where] - reference[where]) ** 2))
        mean = float(image[where].mean())
        if error == 0:
            row(region, "psnr", math.inf, n, "identical to the reference (MSE 0)")
        else:
            row(region, "psnr", float(20 * np.log10(config.peak / np.sqrt(error))), n)
        denominator = ic_mean if config.nrmse_normalizer == "intracranial" else mean
        if denominator > 0:
            row(region, "nrmse", float(np.sqrt(error) / denominator), n)
        else:
            row(region, "nrmse", math.nan, n, f"mean of {name} in the normalizer mask is not > 0")
        row(region, "mean", mean, n)
    return rows


def _lesion_rows(subject, lesions, truth, config):
    rows = []
    references = {}
    if config.reference_name in lesions:
        references[config.reference_name] = lesions[config.reference_name]
    if truth is not None:
        references["truth"] = truth
    for name, lesion in lesions.items():
        n = int(lesion.sum())
        for ref_name, ref in references.items():
            if name == ref_name:
                continue
            value = dice(lesion, ref)
            note = "both lesion maps are empty" if math.isnan(value) else ""
            rows.append((subject, name, LESION_REGION, SCALING_NONE, f"dice_{ref_name}", value,
                         n, math.nan, note))  # fmt: skip
            found = lesion_detection(lesion, ref)
            for metric in ("tpr", "fpr"):
                note = found["note"] if math.isnan(found[metric]) else ""
                rows.append((subject, name, LESION_REGION, SCALING_NONE,
                             f"lesion_{metric}_{ref_name}", found[metric], n, math.nan,
                             note))  # fmt: skip
    return rows


def _contrast_rows(subject, reference, images, mask, dseg, lesions, truth, config):
    """``lesion_ratio_<map>`` (all FLAIRs) and ``lesion_contrast_<map>`` (images under test)."""
    maps = {}
    if config.reference_name in lesions:
        maps[config.reference_name] = lesions[config.reference_name]
    if truth is not None:
        maps["truth"] = truth
    rows = []
    for map_name, lesion in maps.items():
        nawm = nawm_mask(dseg, mask, lesion, config.nawm_margin)
        lesion = lesion & mask  # inside the mask (and the reference's field of view)
        n = int(lesion.sum())
        few = f"{n} voxel(s) in the {map_name} lesion map; need {MIN_LESION_VOXELS} or more"
        ref_ratio = lesion_nawm_ratio(reference, lesion, nawm)
        rows.append((subject, config.reference_name, LESION_REGION, SCALING_NONE,
                     f"lesion_ratio_{map_name}", ref_ratio, n, math.nan,
                     few if math.isnan(ref_ratio) else ""))  # fmt: skip
        for name, image in images.items():
            ratio = lesion_nawm_ratio(image, lesion, nawm)
            contrast = ratio / ref_ratio if ref_ratio > 0 else math.nan
            for metric, value in (("ratio", ratio), ("contrast", contrast)):
                rows.append((subject, name, LESION_REGION, SCALING_NONE,
                             f"lesion_{metric}_{map_name}", value, n, math.nan,
                             few if math.isnan(value) else ""))  # fmt: skip
    return rows


def _check_inputs(
    images: Mapping[str, np.ndarray], mask: np.ndarray, config: MetricsConfig
) -> np.ndarray:
    """The mask as booleans; raise unless there are images, none named as the reference, and
    the mask is not empty."""
    if not images:
        raise SynflairError("no images to evaluate; expected at least one (e.g. synthetic)")
    if config.reference_name in images:
        raise SynflairError(
            f"image name {config.reference_name!r} is reserved for the reference; rename it"
        )
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        raise SynflairError("the intracranial mask is empty; expected at least one voxel")
    return mask


def _reference_fov(
    mask: np.ndarray, reference: np.ndarray, config: MetricsConfig
) -> tuple[np.ndarray, str]:
    """The mask inside the reference's field of view (``config.reference_fov``) and a note."""
    if not config.reference_fov:
        return mask, ""
    outside = int((mask & (reference == 0)).sum())
    fov_note = ""
    if outside:
        fov_note = (f"{outside} intracranial voxel(s) outside the reference's field of "
                    "view (reference exactly 0) not evaluated")  # fmt: skip
    return mask & (reference != 0), fov_note


def _reference_rows(subject, ref, regions, scaling, ref_factor, config):
    """The reference's ``mean`` rows of one scaling."""
    rows = []
    for region, where in regions.items():
        n = int(where.sum())
        value = float(ref[where].mean()) if n else math.nan
        note = "" if n else f"empty region: no {region} voxels inside the intracranial mask"
        rows.append((subject, config.reference_name, region, scaling, "mean", value, n,
                     ref_factor, note))  # fmt: skip
    return rows


def _intensity_rows(subject, reference, images, mask, regions, config, fov_note):
    """The reference's and every image's rows of each scaling (PSNR, NRMSE, mean)."""
    rows = []
    for scaling in config.scalings:
        if scaling == "raw":
            ref, ref_factor = reference, 1.0
        else:
            ref, ref_factor = to_common_scale(reference, mask, config.target_mean,
                                              name=config.reference_name)  # fmt: skip
        ref = np.asarray(ref, dtype=np.float64)
        rows += _reference_rows(subject, ref, regions, scaling, ref_factor, config)
        for name, image in images.items():
            factor = 1.0
            if scaling == "common":
                image, factor = to_common_scale(image, mask, config.target_mean, name=name)
                image = np.asarray(image, dtype=np.float64)
            rows += _image_rows(subject, name, image, ref, regions, factor, scaling, config,
                                fov_note)  # fmt: skip
    return rows


def _checked_lesions(
    lesions: Mapping[str, np.ndarray] | None, lesion_truth: np.ndarray | None, shape: tuple
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The lesion maps and the lesion truth as boolean arrays, checked to have ``shape``."""
    checked = {}
    for name, lesion in (lesions or {}).items():
        lesion = np.asarray(lesion)
        if lesion.shape != shape:
            raise SynflairError(f"lesion map {name!r} has shape {lesion.shape}, expected {shape}")
        checked[name] = lesion.astype(bool)
    truth = None
    if lesion_truth is not None:
        truth = np.asarray(lesion_truth)
        if truth.shape != shape:
            raise SynflairError(f"lesion truth has shape {truth.shape}, expected {shape}")
        truth = truth.astype(bool)
    return checked, truth


def subject_metrics(
    subject: str,
    reference: np.ndarray,
    images: Mapping[str, np.ndarray],
    mask: np.ndarray,
    dseg: np.ndarray,
    *,
    lesions: Mapping[str, np.ndarray] | None = None,
    lesion_truth: np.ndarray | None = None,
    config: MetricsConfig = DEFAULT_METRICS,
) -> pd.DataFrame:
    """All metrics of one subject as a tidy table.

    Parameters
    ----------
    subject : str
        Subject label (without ``sub-``).
    reference : numpy.ndarray, 3D
        Registered conventional FLAIR, on the grid of the images.
    images : mapping of str -> numpy.ndarray
        FLAIRs under test, e.g. ``{"synthetic": ..., "dl": ...}``.
    mask : numpy.ndarray of bool
        Intracranial mask.
    dseg : numpy.ndarray of int
        Tissue labels (1 CSF, 2 GM, 3 WM).
    lesions : mapping of str -> numpy.ndarray of bool, optional
        Lesion maps per image; the one named ``config.reference_name`` is the reference of
        the ``dice_conventional`` rows.
    lesion_truth : numpy.ndarray of bool, optional
        True lesion mask (phantom), the reference of the ``dice_truth`` rows.
    config : MetricsConfig

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`. Metrics: ``psnr`` (dB), ``nrmse``, ``mean`` (intensity of
        the image in the region; also for the reference) per image, region and scaling;
        ``dice_<ref>``, ``lesion_tpr_<ref>``, ``lesion_fpr_<ref>`` per lesion map with
        ``region = "lesions"`` and ``scaling = "none"``; on the reference's lesion map
        (and on ``lesion_truth``), ``lesion_ratio_<ref>`` (lesion / NAWM mean, every FLAIR
        and the reference) and ``lesion_contrast_<ref>`` (an image's ratio over the
        reference's; see :mod:`synflair.metrics.contrast`). ``note`` says why a value is NaN
        (e.g. an empty region).

    Raises
    ------
    SynflairError
        Mismatched shapes, an empty mask, non-finite values or an image that is zero
        throughout the mask.
    """
    mask = _check_inputs(images, mask, config)
    region_masks(dseg, mask)  # checks the segmentation before the images
    reference = _check_image(reference, mask, f"reference ({config.reference_name})")
    images = {name: _check_image(image, mask, name) for name, image in images.items()}
    mask, fov_note = _reference_fov(mask, reference, config)
    regions = region_masks(dseg, mask)
    rows = _intensity_rows(subject, reference, images, mask, regions, config, fov_note)
    if lesions or lesion_truth is not None:
        checked, truth = _checked_lesions(lesions, lesion_truth, mask.shape)
        rows += _lesion_rows(subject, checked, truth, config)
        rows += _contrast_rows(subject, reference, images, mask, dseg, checked, truth, config)
    return pd.DataFrame(rows, columns=list(COLUMNS))
