"""Checks of every pipeline step against the digital phantom's ground truth.

The phantom knows the true relaxation maps, tissue fractions, intracranial
and lesion masks, and the head motion of the conventional FLAIR, so each
step's output can be scored. Targets are those of the project's issues.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synflair.errors import SynflairError
from synflair.nifti import check_same_grid, load, load_data

#: fraction of one tissue that makes a voxel "pure" for the quantification checks
PURE = 0.95
TISSUES = ("WM", "GM", "CSF")
DSEG = {"CSF": 1, "GM": 2, "WM": 3}


@dataclass(frozen=True)
class TruthFiles:
    """The phantom's ground truth of one subject (``<phantom>/sub-<id>/truth``)."""

    root: Path
    subject: str

    def path(self, suffix: str) -> Path:
        """``truth/sub-<id>_<suffix>``; error naming it when missing."""
        path = self.root / f"sub-{self.subject}_{suffix}"
        if not path.is_file():
            raise SynflairError(f"{path}: phantom ground truth missing")
        return path


def _row(check, region, value, target, unit, passed):
    return {
        "check": check,
        "region": region,
        "value": float(value),
        "target": target,
        "unit": unit,
        "passed": bool(passed) if passed is not None else None,
    }


def quantification_rows(truth: TruthFiles, t1, t2, b1) -> list[dict]:
    """Median absolute % error of T1 and T2 in pure WM/GM/CSF and median |B1 error|."""
    fractions = {t: load_data(truth.path(f"label-{t}_probseg.nii.gz"))[0] for t in TISSUES}
    true = {m: load_data(truth.path(f"{m}.nii.gz"))[0] for m in ("T1map", "T2map", "B1map")}
    rows = []
    for tissue in TISSUES:
        pure = fractions[tissue] >= PURE
        limit = 10.0 if tissue == "CSF" else 3.0
        for name, fitted in (("T1", t1), ("T2", t2)):
            reference = true[f"{name}map"][pure]
            error = 100 * np.median(np.abs(fitted[pure] - reference) / reference)
            rows.append(
                _row(
                    f"quantification {name} median |error|",
                    tissue,
                    error,
                    f"<= {limit:g}",
                    "%",
                    error <= limit,
                )
            )
    inside = sum(fractions.values()) >= PURE
    b1_error = float(np.median(np.abs(b1[inside] - true["B1map"][inside])))
    rows.append(
        _row(
            "quantification B1 median |error|",
            "intracranial",
            b1_error,
            "<= 0.03",
            "ratio",
            b1_error <= 0.03,
        )
    )
    return rows


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice index of two boolean masks (NaN if both empty)."""
    from synflair.metrics.overlap import dice as _dice

    return _dice(a, b)


def lesion_rows(
    truth: TruthFiles, predicted: np.ndarray, affine: np.ndarray, motion: np.ndarray
) -> list[dict]:
    """Lesion Dice and lesion-wise detection of the conventional FLAIR's lesion map.

    Two truths are scored. The phantom's lesion mask is defined in MDME space; the
    conventional FLAIR, acquired after a head motion, cuts the lesions with other
    slices (5 mm apart here), so part of a lesion that fills an MDME slice falls
    between FLAIR slices. The lesions the FLAIR images are the phantom's
    ``space-FLAIR`` lesion fractions carried into synthetic space by the true motion
    (linear, as the registered FLAIR is, and as
    :class:`synflair.lesions.space.GridPair` carries a lesion map segmented on the
    FLAIR's grid) and thresholded at 0.5: the target applies to them. Their own Dice
    against the MDME-space mask says how much the acquisition geometry alone loses,
    a ceiling for any FLAIR-based segmentation.

    Parameters
    ----------
    truth : TruthFiles
    predicted : numpy.ndarray of bool
        Lesion map of the conventional FLAIR, in synthetic space.
    affine : (4, 4) numpy.ndarray
        Affine of the synthetic (MDME) grid, which the FLAIR DICOM shares.
    motion : (4, 4) numpy.ndarray
        The true ``flair_from_mdme``.

    Returns
    -------
    list of dict
        Rows of :func:`phantom_checks`.
    """
    from synflair.lesions.detection import lesion_detection
    from synflair.lesions.space import GridPair

    mdme_truth = load_data(truth.path("label-lesion_mask.nii.gz"))[0] > 0.5
    path = truth.path("space-FLAIR_label-lesion_probseg.nii.gz")
    fraction, image = load_data(path)
    grids = GridPair(fraction.shape, image.affine, predicted.shape, affine, motion)
    imaged = grids.to_reference(fraction) >= 0.5
    rows = []
    truths = (
        ("lesions the FLAIR images", imaged, True),
        ("MDME-space lesion mask", mdme_truth, False),
    )
    for name, true, scored in truths:
        value = dice(predicted, true)
        passed = value >= 0.7 if scored and true.any() else None
        target = ">= 0.7" if scored else ""
        rows.append(_row(f"lesion Dice vs {name}", "lesions", value, target, "", passed))
        detection = lesion_detection(predicted, true)
        for key, label in (("tpr", "true"), ("fpr", "false")):
            check = f"lesion-wise {label} positive rate vs {name}"
            rows.append(_row(check, "lesions", detection[key], "", "", None))
    value = dice(imaged, mdme_truth)
    check = "lesion Dice, FLAIR-imaged vs MDME-space truth (ceiling)"
    rows.append(_row(check, "lesions", value, "", "", None))
    return rows


def registration_rows(fitted, true_matrix: np.ndarray, reference, true_mask) -> list[dict]:
    """Rotation and translation error (at the brain centre) of the fitted registration."""
    from synflair.registration.transform import transform_error

    rows = []
    centre = reference.affine @ np.append(np.argwhere(true_mask).mean(axis=0), 1.0)
    rotation, translation = transform_error(fitted, true_matrix, centre[:3])
    rows.append(
        _row("registration rotation error", "head", rotation, "<= 0.5", "deg", rotation <= 0.5)
    )
    rows.append(
        _row(
            "registration translation error",
            "brain centre",
            translation,
            "<= 0.5",
            "mm",
            translation <= 0.5,
        )
    )
    return rows


def segmentation_rows(truth: TruthFiles, labels: np.ndarray, true_mask) -> list[dict]:
    """Dice of each tissue label against the truth's majority tissue (lesions count as WM)."""
    rows = []
    fractions = np.stack(
        [load_data(truth.path(f"label-{t}_probseg.nii.gz"))[0] for t in ("CSF", "GM", "WM")]
    )
    lesion_fraction = load_data(truth.path("label-lesion_probseg.nii.gz"))[0]
    fractions[2] += lesion_fraction  # lesions are white-matter tissue for segmentation
    true_labels = np.where(true_mask, np.argmax(fractions, axis=0) + 1, 0)
    for tissue, label in DSEG.items():
        value = dice(labels == label, true_labels == label)
        target = ">= 0.85" if tissue != "CSF" else ""
        rows.append(
            _row(
                "segmentation Dice",
                tissue,
                value,
                target,
                "",
                value >= 0.85 if tissue != "CSF" else None,
            )
        )
    return rows


def phantom_checks(
    subject: str,
    truth_dir: str | os.PathLike,
    *,
    t1map: str,
    t2map: str,
    b1map: str,
    mask: str,
    transform: str,
    dseg: str,
    lesions: str,
) -> pd.DataFrame:
    """Score one phantom subject's pipeline outputs against its ground truth.

    Parameters
    ----------
    subject : str
        Subject label.
    truth_dir : path-like
        The subject's ``truth`` folder written by ``synflair phantom``.
    t1map, t2map, b1map, mask : str
        Quantification outputs (ms, ms, ratio) and the intracranial mask.
    transform : str
        Registration transform JSON (``fixed_to_moving_world``).
    dseg : str
        Tissue labels (1 CSF, 2 GM, 3 WM).
    lesions : str
        Lesion map of the conventional FLAIR, in synthetic space.

    Returns
    -------
    pandas.DataFrame
        Columns ``subject, check, region, value, target, unit, passed``.
    """
    from synflair.registration.transform import read_transform

    truth = TruthFiles(Path(truth_dir), subject)
    reference = load(truth.path("label-intracranial_mask.nii.gz"))
    for name in (t1map, t2map, b1map, mask, dseg, lesions):
        check_same_grid(load(name), reference, name, truth.path("label-intracranial_mask.nii.gz"))
    t1, t2, b1 = (load_data(p)[0] for p in (t1map, t2map, b1map))
    rows = quantification_rows(truth, t1, t2, b1)

    true_mask = np.asarray(reference.dataobj) > 0.5
    fitted_mask = load_data(mask)[0] > 0.5
    value = dice(fitted_mask, true_mask)
    rows.append(_row("intracranial mask Dice", "intracranial", value, ">= 0.95", "", value >= 0.95))

    true_matrix = np.asarray(
        json.loads(truth.path("motion.json").read_text())["flair_from_mdme"], dtype=float
    )
    rows.extend(registration_rows(read_transform(transform), true_matrix, reference, true_mask))
    rows.extend(segmentation_rows(truth, load_data(dseg, dtype=np.int16)[0], true_mask))
    rows.extend(lesion_rows(truth, load_data(lesions)[0] > 0.5, reference.affine, true_matrix))
    frame = pd.DataFrame(rows)
    frame.insert(0, "subject", subject)
    return frame
