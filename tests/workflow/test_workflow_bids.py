"""A BIDS dataset is the cohort directly (``cohort: bids``), without a subject sheet.

The dataset is built from two ci-preset phantom subjects converted by
``synflair dicom2nifti``: ``sub-<label>/anat/sub-<label>_FLAIR.nii.gz`` (+ the
dcm2niix sidecar) and ``sub-<label>_mdme.nii.gz`` + ``sub-<label>_mdme.json``,
the split in ``participants.tsv``. A dry run plans the whole pipeline; a real
run of the conversion rules checks and copies the NIfTI into results/nifti.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from workflow_helpers import job_counts, snakemake, write_config

pytestmark = [pytest.mark.slow, pytest.mark.workflow]

SPLITS = {"ph01": "train", "ph02": "test"}


@pytest.fixture(scope="module")
def bids(tmp_path_factory) -> Path:
    """A BIDS dataset from two ci-preset phantom subjects' converted NIfTI."""
    base = tmp_path_factory.mktemp("bids")
    phantom = base / "phantom"
    command = ["phantom", "--preset", "ci", "--out", str(phantom), "--subjects", "2"]
    subprocess.run([sys.executable, "-m", "synflair", *command], check=True, capture_output=True)
    root = base / "dataset"
    root.mkdir()
    description = {"Name": "synflair phantom", "BIDSVersion": "1.9.0", "DatasetType": "raw"}
    (root / "dataset_description.json").write_text(json.dumps(description))
    rows = ["participant_id\tsplit"] + [f"sub-{s}\t{split}" for s, split in SPLITS.items()]
    (root / "participants.tsv").write_text("\n".join(rows) + "\n")
    for subject in SPLITS:
        dicom = phantom / f"sub-{subject}" / "dicom"
        anat = root / f"sub-{subject}" / "anat"
        for kind, folder, suffix in (("mdme", "mdme", "mdme"), ("standard", "flair", "FLAIR")):
            out = anat / f"sub-{subject}_{suffix}.nii.gz"
            subprocess.run(
                [sys.executable, "-m", "synflair", "dicom2nifti", "--kind", kind, "--dicom",
                 str(dicom / folder), "--out", str(out)],
                check=True, capture_output=True,
            )  # fmt: skip
    return root


def test_dry_run_plans_the_whole_pipeline(workflow_dir, bids):
    result = snakemake(
        workflow_dir, "-n", "--configfile", "config/ci.yaml", "--config", "cohort=bids",
        f"bids={bids}",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    counts = job_counts(output)
    assert counts["convert_mdme"] == 2 and counts["convert_flair"] == 2
    assert counts["quantify_maps"] == 2 and counts["train_stage"] == 2
    assert counts["infer_dl_flair"] == 2 and counts["report_html"] == 1
    assert counts["register_flair"] == 2  # the conventional FLAIR of every subject
    assert "phantom_subject" not in counts


def test_split_from_the_config_key(workflow_dir, bids):
    config = write_config(
        workflow_dir, "bids.yaml", cohort="bids", bids=str(bids),
        bids_split={"sub-ph01": "test", "ph02": "train"},
    )  # fmt: skip
    result = snakemake(
        workflow_dir, "-n", "--configfile", str(config), "--", "results/train/manifest.tsv"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    bad = write_config(workflow_dir, "bad.yaml", cohort="bids", bids=str(bids),
                       bids_split={"ph01": "train"})  # fmt: skip
    result = snakemake(workflow_dir, "-n", "--configfile", str(bad))
    assert result.returncode != 0
    assert "config key 'bids_split': no split for subject sub-ph02" in result.stdout + result.stderr


def test_conversion_rules_check_and_copy_the_nifti(workflow_dir, bids):
    targets = [
        f"results/nifti/sub-{s}/sub-{s}_{kind}.nii.gz" for s in SPLITS for kind in ("mdme", "FLAIR")
    ]
    result = snakemake(
        workflow_dir, "--cores", "2", "--configfile", "config/ci.yaml", "--config",
        "cohort=bids", f"bids={bids}", "--", *targets, timeout=300,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert job_counts(output) == {"convert_mdme": 2, "convert_flair": 2}
    for subject in SPLITS:
        for suffix in ("mdme", "FLAIR"):
            source = bids / f"sub-{subject}" / "anat" / f"sub-{subject}_{suffix}.nii.gz"
            copied = workflow_dir / "results" / "nifti" / f"sub-{subject}" / source.name
            a, b = nib.load(source), nib.load(copied)
            assert np.array_equal(np.asarray(a.dataobj), np.asarray(b.dataobj))
            assert np.array_equal(a.affine, b.affine)
        sidecar = json.loads(
            (workflow_dir / f"results/nifti/sub-{subject}/sub-{subject}_mdme.json").read_text()
        )
        assert sidecar["Sources"] == [f"sub-{subject}_mdme.nii.gz"]
        assert len(sidecar["EchoTime"]) == 8


def test_an_implausible_sidecar_stops_the_conversion(workflow_dir, bids, tmp_path):
    copy = Path(shutil.copytree(bids, tmp_path / "dataset"))
    sidecar = copy / "sub-ph02" / "anat" / "sub-ph02_mdme.json"
    meta = json.loads(sidecar.read_text())
    meta["RepetitionTime"] = meta["RepetitionTime"] * 1000  # ms written as s
    sidecar.write_text(json.dumps(meta))
    result = snakemake(
        workflow_dir, "--cores", "1", "--configfile", "config/ci.yaml", "--config",
        "cohort=bids", f"bids={copy}", "--", "results/nifti/sub-ph02/sub-ph02_mdme.nii.gz",
        timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    log = (workflow_dir / "logs" / "convert" / "sub-ph02_mdme.log").read_text()
    assert str(sidecar) in log and "RepetitionTime" in log
    assert not (workflow_dir / "results/nifti/sub-ph02/sub-ph02_mdme.nii.gz").exists()
