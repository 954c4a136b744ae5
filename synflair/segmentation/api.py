"""GM/WM/CSF segmentation of the skull-stripped synthetic T1w (FSL FAST or ANTs Atropos).

As in the paper (Hagiwara et al. 2019, "Quantitative Evaluation"), the
synthetic T1w, inherently aligned with the synthetic FLAIR, is skull-stripped
by the intracranial mask and segmented into 3 classes. Both backends write the
same outputs (BIDS-derivatives naming)::

    DIR/P_dseg.nii.gz                 labels 0 background, 1 CSF, 2 GM, 3 WM (uint8)
    DIR/P_label-CSF_probseg.nii.gz    probability / fraction of CSF (float32, 0 outside)
    DIR/P_label-GM_probseg.nii.gz
    DIR/P_label-WM_probseg.nii.gz

The backend's classes are put in the order CSF < GM < WM of their mean T1w
intensity (on T1w, WM is brightest and CSF darkest), computed here rather than
trusted from the backend. ``dseg`` is the backend's hard segmentation (FAST
``_seg``, Atropos labels); ``probseg`` is FAST's partial-volume fractions or
Atropos' posterior probabilities. All four files are written into a temporary
directory inside ``DIR`` and moved into place only when all are complete.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synflair.atomic import atomic_outputs
from synflair.errors import SynflairError
from synflair.nifti import load_data, load_mask, save
from synflair.registration.backend import resolve_settings
from synflair.segmentation import ants as ants_backend
from synflair.segmentation import fsl as fsl_backend

__all__ = [
    "CLASSES",
    "MIN_VOXELS",
    "SegmentationResult",
    "order_classes",
    "output_paths",
    "segment",
]

log = logging.getLogger(__name__)

#: Output labels 1, 2, 3 in order of increasing T1w intensity.
CLASSES = ("CSF", "GM", "WM")
#: Fewest mask voxels accepted for a 3-class segmentation.
MIN_VOXELS = 100
_BACKENDS = {"fsl": fsl_backend, "ants": ants_backend}


@dataclass(frozen=True)
class SegmentationResult:
    """What :func:`segment` wrote.

    Attributes
    ----------
    dseg : pathlib.Path
        The label image.
    probseg : dict of str to pathlib.Path
        Probability images by class name (``"CSF"``, ``"GM"``, ``"WM"``).
    backend : str
        ``"fsl"`` or ``"ants"``.
    class_means : tuple of float
        Mean T1w intensity of CSF, GM and WM (hard labels), ascending.
    """

    dseg: Path
    probseg: dict
    backend: str
    class_means: tuple[float, float, float]


def output_paths(out_dir: str | os.PathLike, prefix: str) -> dict[str, Path]:
    """The output file of each key ``"dseg"``, ``"CSF"``, ``"GM"``, ``"WM"``, ``"sidecar"``.

    The sidecar (``P_dseg.json``) says which backend ran (``auto`` resolved), on
    what image, with which settings and random seed, and whether a rerun gives
    identical maps (``Reproducible``).
    """
    out_dir = Path(out_dir)
    paths = {"dseg": out_dir / f"{prefix}_dseg.nii.gz"}
    for name in CLASSES:
        paths[name] = out_dir / f"{prefix}_label-{name}_probseg.nii.gz"
    paths["sidecar"] = out_dir / f"{prefix}_dseg.json"
    return paths


def order_classes(
    t1w: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, *, name: str = "T1w"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relabel a 3-class segmentation so that 1, 2, 3 have increasing mean intensity.

    Parameters
    ----------
    t1w : numpy.ndarray, shape (X, Y, Z)
    labels : numpy.ndarray of int, shape (X, Y, Z)
        0 background, 1-3 classes in any order.
    probabilities : numpy.ndarray, shape (3, X, Y, Z)
        Class ``k`` of ``labels`` is ``probabilities[k - 1]``.
    name : str
        Used in error messages.

    Returns
    -------
    labels : numpy.ndarray of uint8
        Relabelled; 1 darkest (CSF) ... 3 brightest (WM).
    probabilities : numpy.ndarray, shape (3, X, Y, Z)
        Reordered the same way.
    means : numpy.ndarray, shape (3,)
        Mean intensity of the relabelled classes, ascending.
    """
    means = []
    for k in (1, 2, 3):
        members = labels == k
        if not members.any():
            raise SynflairError(
                f"{name}: the segmentation found no voxel of class {k}; expected 3 tissue "
                "classes (is the image a T1w with brain tissue inside the mask?)"
            )
        means.append(float(t1w[members].mean()))
    order = np.argsort(means)  # order[i] = backend class index of output class i + 1
    relabel = np.zeros(4, dtype=np.uint8)
    relabel[order + 1] = np.arange(1, 4)
    return relabel[labels], probabilities[order], np.asarray(means)[order]


def _check_inputs(t1w: Path, mask: Path) -> tuple[np.ndarray, np.ndarray, object]:
    data, image = load_data(t1w, ndim=3)
    inside = load_mask(mask, reference=image, reference_path=t1w)
    count = int(inside.sum())
    if count < MIN_VOXELS:
        raise SynflairError(
            f"{mask}: only {count} voxels in the mask; expected at least {MIN_VOXELS} "
            "for a 3-class segmentation"
        )
    values = data[inside]
    if not np.any(values > 0):
        raise SynflairError(
            f"{mask}: the mask does not overlap the signal of {t1w} (no T1w value > 0 inside "
            "the mask); expected the intracranial mask of this T1w"
        )
    if np.ptp(values) == 0:
        raise SynflairError(f"{t1w}: the T1w is constant inside {mask}; nothing to segment")
    return data, inside, image


def _fill_unlabelled(
    data: np.ndarray, inside: np.ndarray, labels: np.ndarray, probabilities: np.ndarray
) -> None:
    """Give mask voxels the backend left unlabelled (e.g. zero T1w) the nearest class by mean."""
    labels[~inside] = 0
    probabilities[:, ~inside] = 0.0
    missing = inside & (labels == 0)
    if not missing.any():
        return
    means = np.array(
        [data[labels == k].mean() if (labels == k).any() else np.inf for k in (1, 2, 3)]
    )
    nearest = np.argmin(np.abs(data[missing][:, None] - means[None, :]), axis=1)
    labels[missing] = nearest + 1
    no_probability = missing & (probabilities.sum(axis=0) <= 0)
    for k in range(3):
        probabilities[k][no_probability] = labels[no_probability] == k + 1


def segment(
    t1w: str | os.PathLike,
    mask: str | os.PathLike,
    out_dir: str | os.PathLike,
    prefix: str,
    *,
    backend: str = "auto",
    settings: fsl_backend.FastSettings | ants_backend.AtroposSettings | None = None,
) -> SegmentationResult:
    """Segment the skull-stripped synthetic T1w into CSF, GM and WM.

    Parameters
    ----------
    t1w : path-like
        3D synthetic T1w NIfTI (finite values).
    mask : path-like
        Intracranial mask on the same grid (values > 0.5 inside).
    out_dir : path-like
        Output directory (created if needed).
    prefix : str
        File name prefix, e.g. ``"sub-ph01"``.
    backend : {"auto", "fsl", "ants"}
        ``auto`` picks FAST where ``$FSLDIR`` holds FSL, else Atropos.
    settings : FastSettings or AtroposSettings, optional
        Backend options; must match the backend that runs.

    Returns
    -------
    SegmentationResult
        See :func:`output_paths` for the file names.
    """
    if not prefix or not re.fullmatch(r"[A-Za-z0-9_.+-]+", prefix):
        raise SynflairError(f"prefix must be a non-empty file name part, not {prefix!r}")
    t1w, mask = Path(t1w), Path(mask)
    data, inside, image = _check_inputs(t1w, mask)
    name, settings = resolve_settings(
        backend, ("fast",), settings, fsl_backend.FastSettings, ants_backend.AtroposSettings
    )
    with tempfile.TemporaryDirectory(prefix="synflair-segment-") as work:
        work = Path(work)
        stripped = save(np.where(inside, data, 0.0), image.affine, work / "t1w_brain.nii.gz")
        mask_file = save(inside, image.affine, work / "mask.nii.gz", dtype=np.uint8)
        labels, probabilities = _BACKENDS[name].run(
            stripped, mask_file, workdir=work, settings=settings
        )
    labels = np.asarray(labels, dtype=np.int16)
    probabilities = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    _fill_unlabelled(data, inside, labels, probabilities)
    labels, probabilities, means = order_classes(data, labels, probabilities, name=str(t1w))
    paths = output_paths(out_dir, prefix)
    sidecar = {
        "Description": "GM/WM/CSF segmentation inside the intracranial mask",
        "Backend": name,
        "Sources": [t1w.name],
        "ClassMeans": [float(m) for m in means],
        **_BACKENDS[name].provenance(settings),
    }
    _write_all(paths, labels, probabilities, image, sidecar)
    log.info(
        "segmented %s with %s: CSF/GM/WM mean T1w %s, voxels %s",
        t1w.name,
        name,
        np.round(means, 4).tolist(),
        [int((labels == k).sum()) for k in (1, 2, 3)],
    )
    return SegmentationResult(
        dseg=paths["dseg"],
        probseg={c: paths[c] for c in CLASSES},
        backend=name,
        class_means=tuple(float(m) for m in means),
    )


def _write_all(paths: dict[str, Path], labels, probabilities, image, sidecar: dict) -> None:
    """Write all outputs to temporaries beside them, then rename them into place together."""
    with atomic_outputs(paths) as staged:
        staged["sidecar"].write_text(json.dumps(sidecar, indent=2) + "\n")
        save(
            labels,
            image.affine,
            staged["dseg"],
            header=image.header,
            dtype=np.uint8,
            intent="label",
        )
        for k, name in enumerate(CLASSES):
            save(probabilities[k], image.affine, staged[name], header=image.header)
