"""BIDS-derivatives metadata: dataset descriptions, map sidecars with units, the dseg lookup.

Every per-subject stage of the workflow writes a BIDS-derivatives dataset under
``results/<stage>/`` (``sub-<id>/sub-<id>_<entities>_<suffix>.nii.gz``). This
module holds what makes those folders readable by BIDS tools:

* :func:`dataset_description`: ``dataset_description.json`` with
  ``DatasetType: derivative`` and ``GeneratedBy`` (BIDS 1.10, "Derived data");
* :data:`MAP_METADATA` / :func:`map_sidecar`: the JSON sidecar of each
  quantitative output of ``synflair quantify`` with its ``Units`` (BIDS qMRI
  conventions where BIDS defines the map: ``T1map``, ``T2map``, ``R1map``,
  ``PDmap``, ``TB1map``; units are the ones synflair computes in, stated in
  ``Units``, see ``docs/outputs.md``);
* :data:`DSEG_LABELS` / :func:`dseg_table`: the ``dseg.tsv`` lookup table of
  the tissue label map (BIDS "Segmentations": index, name, abbreviation).

Where BIDS has no suffix for what synflair writes (the 8-image MDME series, the
synthetic contrasts' acquisition), ``docs/outputs.md`` says which name was chosen
and why.
"""

from __future__ import annotations

import os
from pathlib import Path

from synflair import __version__
from synflair.atomic import atomic_output, write_json

__all__ = [
    "BIDS_VERSION",
    "DSEG_LABELS",
    "MAP_METADATA",
    "STAGES",
    "dataset_description",
    "dseg_table",
    "map_sidecar",
    "write_dataset_description",
    "write_dseg_table",
]

BIDS_VERSION = "1.10.0"

#: Derivative datasets of the workflow: results/<stage> -> what it holds.
STAGES = {
    "nifti": "MDME and conventional FLAIR converted from DICOM (identifiers removed)",
    "quantify": "T1, T2, PD, B1 and R1 maps, synthetic FLAIR and T1w, intracranial mask",
    "preprocess": "CSF-suppressed synthetic FLAIR (the stage-1 training target)",
    "infer": "DL-FLAIR of the test subjects",
    "registration": "conventional FLAIR registered to the synthetic FLAIR, and the transforms",
    "segmentation": "GM/WM/CSF label map and probability maps",
    "lesions": "white-matter lesion masks and belief maps of each FLAIR",
}

#: Sidecar fields of each ``synflair quantify`` output, by output key.
MAP_METADATA: dict[str, dict] = {
    "T1map": {"Units": "ms", "Description": "longitudinal relaxation time T1"},
    "T2map": {"Units": "ms", "Description": "transverse relaxation time T2"},
    "PDmap": {
        "Units": "percent",
        "Description": "proton density relative to pure water (CSF = 100)",
    },
    "TB1map": {
        "Units": "arbitrary",
        "Description": "transmit B1: ratio of the actual to the nominal flip angle (1 = nominal)",
    },
    "R1map": {"Units": "1/s", "Description": "longitudinal relaxation rate R1 = 1/T1"},
    "desc-synthetic_FLAIR": {
        "Units": "arbitrary",
        "Description": "synthetic FLAIR, percent of the fully relaxed signal of water",
    },
    "desc-synthetic_T1w": {
        "Units": "arbitrary",
        "Description": "synthetic T1-weighted spin echo, percent of the fully relaxed signal",
    },
    "desc-intracranial_mask": {
        "Type": "Brain",
        "Description": "intracranial volume (brain and CSF) from the quantitative maps",
    },
}

#: Labels of the tissue label map (``*_dseg.nii.gz``): index -> (name, abbreviation).
DSEG_LABELS = {0: ("background", "BG"), 1: ("cerebrospinal fluid", "CSF"),
               2: ("gray matter", "GM"), 3: ("white matter", "WM")}  # fmt: skip


def dataset_description(stage: str) -> dict:
    """The ``dataset_description.json`` of ``results/<stage>``.

    Raises
    ------
    KeyError
        For a stage that is not in :data:`STAGES`.
    """
    return {
        "Name": f"synflair {stage}: {STAGES[stage]}",
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "synflair",
                "Version": __version__,
                "Description": "deep-learning-improved synthetic FLAIR (Hagiwara et al., "
                "AJNR 2019) as an open Snakemake pipeline",
            }
        ],
    }


def write_dataset_description(root: str | os.PathLike, stage: str) -> Path:
    """Write ``root/dataset_description.json`` for ``stage``, atomically."""
    return write_json(Path(root) / "dataset_description.json", dataset_description(stage))


def map_sidecar(key: str, *, sources: list[str] | None = None, **extra) -> dict:
    """The JSON sidecar of one quantify output (:data:`MAP_METADATA` plus ``extra``)."""
    sidecar = dict(MAP_METADATA[key])
    if sources:
        sidecar["Sources"] = list(sources)
    sidecar.update(extra)
    return sidecar


def dseg_table() -> str:
    """The ``dseg.tsv`` lookup table as text (columns index, name, abbreviation)."""
    rows = [
        f"{index}\t{name}\t{abbreviation}" for index, (name, abbreviation) in DSEG_LABELS.items()
    ]
    return "\n".join(["index\tname\tabbreviation", *rows]) + "\n"


def write_dseg_table(root: str | os.PathLike) -> Path:
    """Write ``root/dseg.tsv`` (it applies to every ``*_dseg.nii.gz`` below ``root``)."""
    path = Path(root) / "dseg.tsv"
    with atomic_output(path) as tmp:
        tmp.write_text(dseg_table())
    return path
