"""Bad study folders and NIfTI inputs to ``synflair dicom2nifti`` / ``find-series`` (issue 14).

Study cases: a tiny study folder (the MDME series of 8 x 8 x 2 voxels as real +
imaginary, a FLAIR, a SyMRI-like DERIVED FLAIR copy, a localizer) changed per
case. NIfTI cases: the MDME NIfTI + sidecar and the FLAIR NIfTI converted from
it, changed per case. Each must be refused with one line naming the file or
option and what was expected, no output written, the inputs unchanged.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from badinput_harness import assert_refused

from synflair.cli import main
from synflair.geometry import stack_affine
from synflair.io.dicom_write import PatientInfo, write_magnitude_dicom, write_mdme_dicom
from synflair.physics import CONVENTIONAL_FLAIR, MDME_PAPER

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from study_cases import copy_series, derived_copy, enhanced_copy, write_localizer

SHAPE = (8, 8, 2)
AFFINE = stack_affine([-30.0, -30.0, 0.0], [1, 0, 0, 0, 1, 0], [7.5, 7.5], 5.0)
PATIENT = PatientInfo(name="Corpus^Study", patient_id="BADST0042", birth_date="19700101")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    """A study folder and the NIfTI converted from it (copied by each case, never changed)."""
    root = tmp_path_factory.mktemp("inputs")
    x, y = np.meshgrid(np.arange(SHAPE[0]), np.arange(SHAPE[1]), indexing="ij")
    r = np.hypot(x - 3.5, y - 3.5)[..., None] * np.ones(SHAPE[2])
    t1, t2 = np.where(r < 2, 4000.0, 900.0), np.where(r < 2, 1000.0, 80.0)
    pd = np.where(r < 3.8, 0.8, 0.0)
    study = root / "study"
    write_mdme_dicom(
        MDME_PAPER.signal(t1, t2, pd) * np.exp(0.5j), AFFINE, study / "mdme",
        protocol=MDME_PAPER, patient=PATIENT, uid_seed="bad", slice_thickness=5.0,
    )  # fmt: skip
    write_magnitude_dicom(
        CONVENTIONAL_FLAIR.signal(t1, t2, pd) * 1000.0, AFFINE, study / "flair", patient=PATIENT,
        uid_seed="bad", slice_thickness=5.0, tr=CONVENTIONAL_FLAIR.tr, te=CONVENTIONAL_FLAIR.te,
        ti=CONVENTIONAL_FLAIR.ti,
    )  # fmt: skip
    derived_copy(study / "flair", study / "symri", description="SyMRI T2 FLAIR", number=105,
                 seed="symri")  # fmt: skip
    write_localizer(study / "loc", AFFINE, patient=PATIENT, seed="bad")
    nifti = root / "nifti"
    for kind, folder in (("mdme", "mdme"), ("standard", "flair")):
        out = nifti / f"{folder}.nii.gz"
        assert main(["dicom2nifti", "--kind", kind, "--dicom", str(study / folder),
                     "--out", str(out)]) == 0  # fmt: skip
    return {"study": study, "nifti": nifti}


# Study cases: build(study copy) -> (extra options, names the error line must hold).


def _two_mdme(study):
    copy_series(study / "mdme", study / "mdme2", description="MDME again", number=9, seed="m2")
    return [], ["2 series look like the MDME raw series (series 1, 9)", "mdme_series", "--series"]


def _no_mdme(study):
    shutil.rmtree(study / "mdme")
    return [], [str(study), "no MDME raw series found among 3 series", "SyMRI T2 FLAIR"]


def _enhanced_mdme(study):
    enhanced_copy(study / "mdme", study / "enh" / "mdme.dcm")
    shutil.rmtree(study / "mdme")
    return [], ["no MDME raw series found", "Enhanced MR Image Storage", "single-frame"]


def _unknown_choice(study):
    return ["--series", "77"], ["mdme_series '77' matches no series", "SeriesInstanceUID"]


def _shared_number(study):
    copy_series(study / "flair", study / "other", description="T2", number=1, seed="o",
                InversionTime=None, ScanningSequence="SE")  # fmt: skip
    return ["--series", "1"], ["mdme_series '1' matches 2 series", "needs the UID"]


def _chosen_not_mdme(study):
    """A choice is honoured; the sorter then says why the series is no MDME."""
    return ["--series", "2"], ["S002_I00001.dcm", "missing DICOM attribute FlipAngle"]


STUDY_CASES = {
    "two-mdme-series": _two_mdme,
    "no-mdme-series": _no_mdme,
    "enhanced-mdme": _enhanced_mdme,
    "series-choice-matches-nothing": _unknown_choice,
    "series-number-shared": _shared_number,
    "chosen-series-is-the-flair": _chosen_not_mdme,
}


@pytest.mark.parametrize("case", STUDY_CASES)
def test_study_refused(case, pristine, tmp_path, capsys):
    study = Path(shutil.copytree(pristine["study"], tmp_path / "study"))
    options, names = STUDY_CASES[case](study)
    out = tmp_path / "out" / "mdme.nii.gz"
    argv = ["dicom2nifti", "--kind", "mdme", "--study", str(study), *options, "--out", str(out)]
    assert_refused(argv, capsys, names=names, outputs=[out, out.with_name("mdme.json")],
                   inputs=[study])  # fmt: skip


def _two_flairs(study):
    copy_series(study / "flair", study / "flair2", description="FLAIR again", number=8, seed="f")
    return ["2 series look like the conventional FLAIR series (series 2, 8)", "flair_series"]


def _no_flair(study):
    shutil.rmtree(study / "flair")
    return ["no conventional FLAIR series found", "DERIVED"]


@pytest.mark.parametrize("build", [_two_flairs, _no_flair], ids=["two-flairs", "no-flair"])
def test_study_flair_refused(build, pristine, tmp_path, capsys):
    study = Path(shutil.copytree(pristine["study"], tmp_path / "study"))
    names = build(study)
    out = tmp_path / "out" / "FLAIR.nii.gz"
    argv = ["dicom2nifti", "--kind", "standard", "--study", str(study), "--out", str(out)]
    assert_refused(argv, capsys, names=names, outputs=[out], inputs=[study])
    # find-series prints the table, then refuses the same way
    assert_refused(["find-series", str(study)], capsys, names=names[:1], inputs=[study])


def test_series_without_study_refused(pristine, tmp_path, capsys):
    out = tmp_path / "x.nii.gz"
    argv = ["dicom2nifti", "--kind", "mdme", "--dicom", str(pristine["study"] / "mdme"),
            "--series", "1", "--out", str(out)]  # fmt: skip
    assert_refused(argv, capsys, names=["--series applies to --study only"], outputs=[out])


# NIfTI cases: build(folder with mdme.nii.gz/.json and flair.nii.gz/.json) -> (kind, file, names).


def _save(path: Path, data, like: Path) -> None:
    nib.save(nib.Nifti1Image(np.asarray(data, np.float32), nib.load(like).affine), path)


def _sidecar_edit(**changes):
    def build(folder):
        path = folder / "mdme.json"
        meta = json.loads(path.read_text())
        meta.update(changes)
        path.write_text(json.dumps(meta))
        return "mdme", folder / "mdme.nii.gz", [str(path), *changes]

    return build


def _mdme_3d(folder):
    image = folder / "mdme.nii.gz"
    _save(image, np.asarray(nib.load(image).dataobj)[..., 0], image)
    return "mdme", image, [str(image), "expected a 4D image"]


def _mdme_nan(folder):
    image = folder / "mdme.nii.gz"
    data = np.asarray(nib.load(image).dataobj).copy()
    data[1, 2, 0, 3] = np.nan
    _save(image, data, image)
    return "mdme", image, [str(image), "1 non-finite", "expected finite data"]


def _mdme_7_volumes(folder):
    image = folder / "mdme.nii.gz"
    _save(image, np.asarray(nib.load(image).dataobj)[..., :7], image)
    return "mdme", image, [str(folder / "mdme.json"), "the image has 7", str(image)]


def _mdme_no_sidecar(folder):
    (folder / "mdme.json").unlink()
    return "mdme", folder / "mdme.nii.gz", [str(folder / "mdme.json"), "no such file"]


def _mdme_real_component(folder):
    return "mdme", folder / "mdme.nii.gz", ["ImageComponent 'magnitude'", "'real'",
                                            "conversion.mdme_component"]  # fmt: skip


def _flair_two_volumes(folder):
    image = folder / "flair.nii.gz"
    data = np.asarray(nib.load(image).dataobj)
    _save(image, np.stack([data, data], axis=-1), image)
    return "standard", image, [str(image), "2 volumes; expected one 3D FLAIR image"]


def _flair_inf(folder):
    image = folder / "flair.nii.gz"
    data = np.asarray(nib.load(image).dataobj, dtype=np.float32).copy()
    data[0, 0, 0] = np.inf
    _save(image, data, image)
    return "standard", image, [str(image), "non-finite", "expected finite data"]


def _flair_bad_sidecar(folder):
    (folder / "flair.json").write_text("{not json")
    return "standard", folder / "flair.nii.gz", [str(folder / "flair.json"), "not a readable JSON"]


def _flair_is_a_folder(folder):
    path = folder / "dir.nii.gz"
    path.mkdir()
    return "standard", path, [str(path), "is a folder"]


NIFTI_CASES = {
    "mdme-3d": _mdme_3d,
    "mdme-nan": _mdme_nan,
    "mdme-7-volumes": _mdme_7_volumes,
    "mdme-no-sidecar": _mdme_no_sidecar,
    "mdme-tr-in-seconds-as-ms": _sidecar_edit(RepetitionTime=3500),
    "mdme-flip-in-radians": _sidecar_edit(FlipAngle=1.57),
    "mdme-component-mismatch": _mdme_real_component,
    "flair-two-volumes": _flair_two_volumes,
    "flair-inf": _flair_inf,
    "flair-bad-sidecar": _flair_bad_sidecar,
    "flair-is-a-folder": _flair_is_a_folder,
}


@pytest.mark.parametrize("case", NIFTI_CASES)
def test_nifti_refused(case, pristine, tmp_path, capsys):
    folder = Path(shutil.copytree(pristine["nifti"], tmp_path / "in"))
    kind, image, names = NIFTI_CASES[case](folder)
    out = tmp_path / "out" / "x.nii.gz"
    component = ["--component", "real"] if case == "mdme-component-mismatch" else []
    argv = ["dicom2nifti", "--kind", kind, "--nifti", str(image), *component, "--out", str(out)]
    assert_refused(argv, capsys, names=names, outputs=[out, out.with_name("x.json")],
                   inputs=[folder])  # fmt: skip
