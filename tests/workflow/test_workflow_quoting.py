"""Subject-sheet folder names reach the conversion jobs as data, never as shell code.

A real Snakemake run of the conversion rules only, on a sheet cohort whose DICOM
folders carry shell metacharacters (an apostrophe, ``$(...)``, backticks, ``;``,
spaces, a leading ``-``): every NIfTI is written, and no command hidden in a
folder name runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nibabel as nib
import pytest
from workflow_helpers import job_counts, snakemake

pytestmark = [pytest.mark.slow, pytest.mark.workflow]

#: A file that an injected command would create (in the job's working directory).
MARK = "PWNED"
#: Folder names a user's sheet may hold: (MDME folder, FLAIR folder) per subject.
#: The MDME column is ';'-separated, so only the FLAIR folders carry a ';'.
FOLDERS = {
    "p01": (f"x'$(touch {MARK})'y", "O'Brien"),
    "p02": (
        f'a b "c" `touch {MARK}` $HOME & | {{}} }}x{{ * [1] ~ # \\ {MARK}',
        f"-rf ; touch {MARK} ; echo 'unclosed",
    ),
}


@pytest.fixture(scope="module")
def phantom_dicom(tmp_path_factory) -> Path:
    """One ci-preset phantom subject's DICOM (``dicom/mdme``, ``dicom/flair``)."""
    root = tmp_path_factory.mktemp("phantom") / "cohort"
    command = ["phantom", "--preset", "ci", "--out", str(root), "--subjects", "2", "--only", "ph01"]
    subprocess.run(
        [sys.executable, "-m", "synflair", *command],
        check=True,
        capture_output=True,
    )
    return root / "sub-ph01" / "dicom"


def _marks(*roots: Path) -> list[Path]:
    found = []
    for root in roots:
        found += [p for p in root.rglob(f"*{MARK}*") if p.is_file()]
    return found


def test_hostile_folder_names_convert_and_run_nothing(workflow_dir, phantom_dicom, tmp_path):
    study = tmp_path / "study"
    lines = ["subject\tmdme\tflair\tsplit"]
    for subject, (mdme, flair) in FOLDERS.items():
        shutil.copytree(phantom_dicom / "mdme", study / mdme)
        shutil.copytree(phantom_dicom / "flair", study / flair)
        split = "train" if subject == "p01" else "test"
        lines.append(f"{subject}\t{mdme}\t{flair}\t{split}")
    sheet = study / "subjects.tsv"
    sheet.write_text("\n".join(lines) + "\n")
    kinds = ("mdme", "FLAIR")
    targets = [f"results/nifti/sub-{s}/sub-{s}_{kind}.nii.gz" for s in FOLDERS for kind in kinds]
    temp_before = set(Path(tempfile.gettempdir()).glob(f"*{MARK}*"))

    result = snakemake(
        workflow_dir,
        "--cores",
        "2",
        "--configfile",
        "config/ci.yaml",
        "--config",
        "cohort=sheet",
        f"sheet={sheet}",
        "--",
        *targets,
        timeout=300,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert job_counts(output) == {"convert_mdme": 2, "convert_flair": 2}, output
    for subject in FOLDERS:
        mdme = nib.load(workflow_dir / f"results/nifti/sub-{subject}/sub-{subject}_mdme.nii.gz")
        flair = nib.load(workflow_dir / f"results/nifti/sub-{subject}/sub-{subject}_FLAIR.nii.gz")
        assert mdme.shape == (96, 96, 6, 8)
        assert flair.shape[:3] == (96, 96, 6)
    assert _marks(workflow_dir, tmp_path) == []
    assert [p for p in Path.cwd().glob(f"*{MARK}*") if p.is_file()] == []
    assert set(Path(tempfile.gettempdir()).glob(f"*{MARK}*")) == temp_before
    # the DICOM folders are untouched: the same files as the phantom's
    for folders in FOLDERS.values():
        for folder, kind in zip(folders, ("mdme", "flair"), strict=True):
            assert _names(study / folder) == _names(phantom_dicom / kind)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())
