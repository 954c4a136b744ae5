"""File-level API of the metrics stage: one subject's NIfTI files in, its metrics TSV out.

``synflair metrics`` (:mod:`synflair.metrics.cli`) parses its options into a
:class:`MetricsFiles` and a :class:`~synflair.metrics.subject.MetricsConfig` and calls
:func:`subject_metrics_file`; the workflow's ``evaluate_metrics`` rule runs that
command. The array work is :func:`synflair.metrics.subject.subject_metrics`; the
table's columns are :data:`synflair.metrics.table.COLUMNS`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synflair.atomic import write_tsv
from synflair.errors import SynflairError
from synflair.metrics.subject import DEFAULT_METRICS, MetricsConfig, subject_metrics
from synflair.nifti import check_same_grid, load_data

__all__ = ["MetricsFiles", "subject_metrics_file"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike


@dataclass(frozen=True)
class MetricsFiles:
    """One subject's inputs to the metrics, all on the reference's voxel grid.

    Attributes
    ----------
    subject : str
        Subject label (without ``sub-``), the table's ``subject`` column.
    reference : path-like
        Conventional FLAIR registered to synthetic space.
    images : mapping of str -> path-like
        FLAIR images under test by name (e.g. ``synthetic``, ``dl``).
    mask : path-like
        Intracranial mask.
    dseg : path-like
        Tissue labels, 1 CSF, 2 GM, 3 WM (``*_dseg.nii.gz``).
    lesions : mapping of str -> path-like
        Lesion map of each image; the one named ``config.reference_name``
        (``conventional``) is the reference of the ``dice_conventional`` rows.
    lesion_truth : path-like or None
        True lesion mask (phantom) for the ``*_truth`` rows.
    """

    subject: str
    reference: PathLike
    images: Mapping[str, PathLike]
    mask: PathLike
    dseg: PathLike
    lesions: Mapping[str, PathLike] = field(default_factory=dict)
    lesion_truth: PathLike | None = None


def subject_metrics_file(
    files: MetricsFiles, out: PathLike, config: MetricsConfig = DEFAULT_METRICS
) -> Path:
    """Compute one subject's metrics table and write it to ``out`` atomically.

    Parameters
    ----------
    files : MetricsFiles
    out : path-like
        The tidy TSV (columns :data:`synflair.metrics.table.COLUMNS`).
    config : MetricsConfig

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    SynflairError
        Naming the file that is missing, not a 3D NIfTI, not on the reference's grid,
        or (the mask) empty; or what :func:`~synflair.metrics.subject.subject_metrics`
        refuses. Nothing is written then.
    """
    reference, ref_image = load_data(files.reference, ndim=3)

    def on_grid(path: PathLike) -> np.ndarray:
        data, image = load_data(path, ndim=3, dtype=np.float32)
        check_same_grid(image, ref_image, path, files.reference)
        return data

    mask = on_grid(files.mask) > 0.5
    if not mask.any():
        raise SynflairError(f"{files.mask}: the intracranial mask is empty")
    dseg = on_grid(files.dseg)
    flair = {name: on_grid(path) for name, path in files.images.items()}
    lesions = {name: on_grid(path) > 0.5 for name, path in files.lesions.items()}
    truth = on_grid(files.lesion_truth) > 0.5 if files.lesion_truth is not None else None
    table = subject_metrics(
        files.subject, reference, flair, mask, dseg,
        lesions=lesions, lesion_truth=truth, config=config,
    )  # fmt: skip
    written = write_tsv(out, table)
    log.info("sub-%s: %d metric rows -> %s", files.subject, len(table), written)
    return written
