"""A subject sheet of study folders (one PACS-like export per patient) runs through the workflow.

Two ci-preset phantom subjects; each study folder holds the MDME raw series,
the conventional FLAIR, a SyMRI-like DERIVED FLAIR, a localizer and a README,
with MDME and FLAIR files recompressed (JPEG-LS, JPEG 2000, JPEG Lossless).
The second study also holds a repeat of the MDME series, chosen by the sheet's
``mdme_series`` column. A real Snakemake run converts and quantifies both
subjects; the MDME NIfTI equals the one converted from the series' own folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from workflow_helpers import job_counts, snakemake

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from study_cases import SYNTAXES, build_study, copy_series

from synflair.io.dicom_write import PatientInfo

pytestmark = [pytest.mark.slow, pytest.mark.workflow]

SUBJECTS = ("ph01", "ph02")
PATIENT = PatientInfo(name="Study^Export", patient_id="STUDY0001", birth_date="19600101")


@pytest.fixture(scope="module")
def phantom(tmp_path_factory) -> Path:
    """Two ci-preset phantom subjects (``sub-*/dicom/{mdme,flair}``)."""
    root = tmp_path_factory.mktemp("phantom") / "cohort"
    command = ["phantom", "--preset", "ci", "--out", str(root), "--subjects", "2"]
    subprocess.run([sys.executable, "-m", "synflair", *command], check=True, capture_output=True)
    return root


def test_sheet_of_study_folders_converts_and_quantifies(workflow_dir, phantom, tmp_path):
    exports = tmp_path / "exports"
    lines = ["subject\tstudy\tmdme_series\tsplit"]
    for index, subject in enumerate(SUBJECTS):
        dicom = phantom / f"sub-{subject}" / "dicom"
        study = build_study(
            exports / f"patient {index + 1}",
            dicom / "mdme",
            dicom / "flair",
            affine=np.diag([4.0, 4.0, 10.0, 1.0]),
            patient=PATIENT,
            seed=subject,
            compressed={"mdme": [None, SYNTAXES[index]], "flair": [SYNTAXES[2]]},
        )
        choice = ""
        if index == 1:  # a repeated MDME series: the sheet chooses the repeat by its number
            copy_series(dicom / "mdme", study / "s015_MDME", description="MDME repeat",
                        number=15, seed="repeat")  # fmt: skip
            choice = "15"
        lines.append(f"{subject}\t{study.name}\t{choice}\t{('train', 'test')[index]}")
    sheet = exports / "subjects.tsv"
    sheet.write_text("\n".join(lines) + "\n")
    targets = [
        f"results/quantify/sub-{s}/sub-{s}_{name}"
        for s in SUBJECTS
        for name in ("T1map.nii.gz", "desc-synthetic_FLAIR.nii.gz")
    ] + [f"results/nifti/sub-{s}/sub-{s}_FLAIR.nii.gz" for s in SUBJECTS]

    result = snakemake(
        workflow_dir, "--cores", "2", "--configfile", "config/ci.yaml", "--config",
        "cohort=sheet", f"sheet={sheet}", "--", *targets, timeout=300,
    )  # fmt: skip

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert job_counts(output) == {"convert_mdme": 2, "convert_flair": 2, "quantify_maps": 2}
    for subject in SUBJECTS:
        nifti = workflow_dir / "results" / "nifti" / f"sub-{subject}"
        direct = tmp_path / f"{subject}_direct.nii.gz"
        subprocess.run(
            [sys.executable, "-m", "synflair", "dicom2nifti", "--kind", "mdme", "--dicom",
             str(phantom / f"sub-{subject}" / "dicom" / "mdme"), "--out", str(direct)],
            check=True, capture_output=True,
        )  # fmt: skip
        converted = nib.load(nifti / f"sub-{subject}_mdme.nii.gz")
        assert np.array_equal(np.asarray(converted.dataobj), np.asarray(nib.load(direct).dataobj))
        flair = nib.load(nifti / f"sub-{subject}_FLAIR.nii.gz")
        assert flair.shape == (96, 96, 6)
        t1 = nib.load(workflow_dir / f"results/quantify/sub-{subject}/sub-{subject}_T1map.nii.gz")
        assert np.isfinite(np.asarray(t1.dataobj)).all()
    log = (workflow_dir / "logs" / "convert" / "sub-ph02_mdme.log").read_text()
    assert "MDME repeat" in log and "SyMRI T2 FLAIR" in log and "localizer" in log
    assert "mdme_series" in log  # the choice of a series that is not the only candidate
    flair_log = (workflow_dir / "logs" / "convert" / "sub-ph01_FLAIR.log").read_text()
    assert "conventional FLAIR series: series 2 'FLAIR'" in flair_log
