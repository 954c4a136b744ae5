"""Validation subjects and model selection: what is chosen by measurement is chosen here.

Training subjects are split into a training part (the manifest) and validation
subjects (a second manifest, ``synflair train --validation``). During training
the generator is scored on the validation subjects every
``selection.every`` iterations, and the weights kept at the end are those of
the best-scoring evaluation, never chosen on test subjects.

**Score** (per validation subject, then averaged over subjects):

* ``psnr``: intracranial PSNR (dB, peak 25,500) of the DL-FLAIR against the
  registered conventional FLAIR, both on the common scale of
  :mod:`synflair.intensity` (intracranial mean 2000), as in the report;
* ``contrast``: lesion/NAWM ratio of the DL-FLAIR over that of the conventional
  FLAIR, on the conventional FLAIR's lesion map (:mod:`synflair.metrics.contrast`);
  only for subjects whose manifest row has ``lesions`` and ``dseg`` and whose lesion
  map has enough voxels (NaN otherwise).

**Rule** (:func:`is_better`): an evaluation whose contrast is at least
``selection.min_contrast`` (or unknown) beats one below it; among the same
kind, the higher PSNR wins (below the floor: the higher contrast). So the
selected model is the most faithful one that keeps lesions, and when none keeps
them, the one that keeps them best.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from synflair.errors import SynflairError
from synflair.intensity import INTRACRANIAL_MEAN
from synflair.metrics.contrast import lesion_nawm_ratio, nawm_mask
from synflair.metrics.image import PAPER_PEAK
from synflair.models.normalization import InputNormalization
from synflair.nifti import check_same_grid, load_data
from synflair.tables import read_tsv
from synflair.train.data import MANIFEST_COLUMNS, SubjectPaths, _load_subject

__all__ = [
    "VALIDATION_COLUMNS",
    "Score",
    "ValidationSubject",
    "is_better",
    "load_validation",
    "read_validation_manifest",
    "score_generator",
    "subject_scores",
    "validation_subjects",
]

#: Optional columns of the validation manifest (for the lesion-contrast score).
VALIDATION_COLUMNS = ("lesions", "dseg")


@dataclass(frozen=True)
class Score:
    """Mean validation scores of one evaluation (see the module docstring)."""

    iteration: int
    psnr: float
    nrmse: float
    contrast: float

    def to_dict(self) -> dict:
        return asdict(self)


def validation_subjects(train: list[str], fraction: float) -> list[str]:
    """The last ``ceil(fraction n)`` of ``n`` training subjects (sorted), kept for validation.

    At least one subject is left to train on; ``fraction`` 0 (or a single training
    subject) gives none.

    Raises
    ------
    ValueError
        If ``fraction`` is not in [0, 1).
    """
    if isinstance(fraction, bool) or not (isinstance(fraction, int | float) and 0 <= fraction < 1):
        raise ValueError(f"validation fraction must be a number in [0, 1), not {fraction!r}")
    ordered = sorted(train)
    n = len(ordered)
    if n < 2 or fraction == 0:
        return []
    count = min(max(math.ceil(fraction * n - 1e-9), 1), n - 1)
    return ordered[n - count :]


def is_better(candidate: Score, best: Score | None, min_contrast: float) -> bool:
    """Whether ``candidate`` should replace ``best`` under the selection rule.

    Parameters
    ----------
    candidate, best : Score
        ``best`` None: the candidate wins.
    min_contrast : float
        Lesion-contrast floor (relative to the conventional FLAIR); 0 selects by PSNR only.
    """
    if best is None:
        return True

    def keeps(score: Score) -> bool:
        return math.isnan(score.contrast) or score.contrast >= min_contrast

    if keeps(candidate) != keeps(best):
        return keeps(candidate)
    if keeps(candidate):
        return candidate.psnr > best.psnr
    return candidate.contrast > best.contrast


@dataclass(frozen=True)
class ValidationSubject:
    """One validation subject's intracranial voxels, ready for the generator.

    Attributes
    ----------
    subject : str
    inputs : torch.Tensor
        ``(n, C)`` normalized inputs of the intracranial voxels.
    conventional : numpy.ndarray
        ``(n,)`` registered conventional FLAIR (training scale).
    lesions, nawm : numpy.ndarray of bool or None
        ``(n,)`` masks of the conventional FLAIR's lesions and of the NAWM among those
        voxels (None without ``lesions``/``dseg`` in the manifest).
    """

    subject: str
    inputs: torch.Tensor
    conventional: np.ndarray
    lesions: np.ndarray | None
    nawm: np.ndarray | None


def read_validation_manifest(path: str | os.PathLike) -> list[tuple[SubjectPaths, dict]]:
    """Rows of a validation manifest: the training columns plus optional ``lesions``, ``dseg``.

    Returns
    -------
    list of (SubjectPaths, dict)
        The dict maps ``lesions``/``dseg`` to paths when both columns are filled.
    """
    from synflair.train.data import read_manifest

    rows = read_manifest(path, what="the validation manifest")
    frame = read_tsv(path, what="the validation manifest")
    present = [c for c in VALIDATION_COLUMNS if c in frame.columns]
    if len(present) == 1:
        raise SynflairError(
            f"{path}: has column {present[0]!r} but not "
            f"{next(c for c in VALIDATION_COLUMNS if c not in present)!r}; the lesion-contrast "
            "score needs both (or neither)"
        )
    out = []
    for number, (paths, record) in enumerate(
        zip(rows, frame.to_dict("records"), strict=True), start=2
    ):
        extra = {}
        if present:
            filled = [bool(str(record[c]).strip()) for c in VALIDATION_COLUMNS]
            if any(filled) and not all(filled):
                raise SynflairError(
                    f"{path}, line {number}: 'lesions' and 'dseg' must both be given or both empty"
                )
            if all(filled):
                extra = {c: Path(record[c]) for c in VALIDATION_COLUMNS}
        out.append((paths, extra))
    return out


def load_validation(
    rows: list[tuple[SubjectPaths, dict]], rule: InputNormalization, margin: int = 2
) -> list[ValidationSubject]:
    """Load and normalize the validation subjects (CPU tensors)."""
    subjects = []
    for paths, extra in rows:
        inputs, _, conventional, mask = _load_subject(paths, rule)
        # scored inside the conventional FLAIR's field of view, as synflair.metrics does
        mask = mask & (conventional != 0)
        lesions = nawm = None
        if extra:
            reference = load_data(paths.mdme, ndim=4)[1]
            maps = {}
            for column in VALIDATION_COLUMNS:
                data, image = load_data(extra[column], ndim=3)
                check_same_grid(image, reference, extra[column], paths.mdme)
                maps[column] = data
            lesion = maps["lesions"] > 0.5
            lesions = lesion[mask]
            nawm = nawm_mask(np.rint(maps["dseg"]).astype(int), mask, lesion, margin)[mask]
        subjects.append(
            ValidationSubject(
                paths.subject,
                torch.from_numpy(np.ascontiguousarray(inputs[mask])),
                conventional[mask].astype(np.float64),
                lesions,
                nawm,
            )
        )
    return subjects


def subject_scores(
    prediction: np.ndarray, subject: ValidationSubject
) -> tuple[float, float, float]:
    """``(psnr, nrmse, contrast)`` of one subject's predicted intracranial voxels."""
    prediction = np.asarray(prediction, dtype=np.float64)
    mean = prediction.mean()
    if not (np.isfinite(mean) and mean > 0):
        return -math.inf, math.inf, math.nan
    image = prediction * (INTRACRANIAL_MEAN / mean)
    reference = subject.conventional * (INTRACRANIAL_MEAN / subject.conventional.mean())
    rmse = float(np.sqrt(np.mean((image - reference) ** 2)))
    psnr = math.inf if rmse == 0 else 20 * math.log10(PAPER_PEAK / rmse)
    contrast = math.nan
    if subject.lesions is not None:
        mine = lesion_nawm_ratio(prediction, subject.lesions, subject.nawm)
        theirs = lesion_nawm_ratio(subject.conventional, subject.lesions, subject.nawm)
        contrast = mine / theirs if theirs > 0 else math.nan
    return psnr, rmse / INTRACRANIAL_MEAN, contrast


@torch.no_grad()
def score_generator(
    generator: torch.nn.Module, subjects: list[ValidationSubject], iteration: int
) -> Score:
    """Score the generator on the validation subjects (means over subjects)."""
    if not subjects:
        raise ValueError("no validation subjects to score")
    was_training = generator.training
    generator.eval()
    device = next(generator.parameters()).device
    rows = []
    for subject in subjects:
        prediction = torch.cat(
            [
                generator.forward_voxels(chunk.to(device)).float().cpu()
                for chunk in torch.split(subject.inputs, 1 << 18)
            ]
        ).numpy()
        rows.append(subject_scores(prediction, subject))
    generator.train(was_training)
    psnr, nrmse, contrast = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    known = contrast[np.isfinite(contrast)]
    return Score(
        iteration,
        float(psnr.mean()),
        float(nrmse.mean()),
        float(known.mean()) if known.size else math.nan,
    )


MANIFEST_HEADER = (*MANIFEST_COLUMNS, *VALIDATION_COLUMNS)
