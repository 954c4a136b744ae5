"""The generated cohort: layout, DICOM, truth alignment, determinism, bad arguments
(synflair.phantom.generate, synflair.phantom.output, synflair phantom)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from synflair.errors import SynflairError
from synflair.geometry import stack_affine
from synflair.phantom import generate
from synflair.phantom.deformation import rigid_matrix
from synflair.phantom.generate import generate_cohort

TRUTH = [
    "label-WM_probseg",
    "label-GM_probseg",
    "label-CSF_probseg",
    "label-lesion_probseg",
    "label-lesion_mask",
    "space-FLAIR_label-lesion_probseg",
    "space-FLAIR_label-lesion_mask",
    "label-intracranial_mask",
    "T1map",
    "T2map",
    "PDmap",
    "B1map",
    "desc-noisefree_FLAIR",
]


def _read_series(folder: Path):
    return [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]


def _truth(cohort: Path, sid: str, key: str):
    image = nib.load(cohort / f"sub-{sid}" / "truth" / f"sub-{sid}_{key}.nii.gz")
    return np.asarray(image.dataobj), image.affine


def test_layout(ci_cohort):
    assert (ci_cohort / "subjects.tsv").read_text() == "subject\tsplit\nph01\ttrain\nph02\ttest\n"
    assert sorted(p.name for p in ci_cohort.iterdir()) == ["sub-ph01", "sub-ph02", "subjects.tsv"]
    for sid in ("ph01", "ph02"):
        truth = ci_cohort / f"sub-{sid}" / "truth"
        expected = {f"sub-{sid}_{key}.nii.gz" for key in TRUTH}
        expected |= {f"sub-{sid}_motion.json", f"sub-{sid}_tissues.tsv"}
        assert {p.name for p in truth.iterdir()} == expected
        assert len(list((ci_cohort / f"sub-{sid}" / "dicom" / "mdme").glob("*.dcm"))) == 6 * 8 * 2
        assert len(list((ci_cohort / f"sub-{sid}" / "dicom" / "flair").glob("*.dcm"))) == 6


def test_mdme_dicom_has_every_combination_once_per_slice(ci_cohort):
    series = _read_series(ci_cohort / "sub-ph01" / "dicom" / "mdme")
    combos = Counter()
    for ds in series:
        component = _component(ds)
        position = tuple(round(float(v), 3) for v in ds.ImagePositionPatient)
        combos[(position, float(ds.EchoTime), float(ds.TriggerTime), component)] += 1
    assert set(combos.values()) == {1}
    positions = {c[0] for c in combos}
    assert len(positions) == 6
    assert {c[1] for c in combos} == {16.9, 84.5}
    assert {c[2] for c in combos} == {146.0, 546.0, 1879.0, 3879.0}
    assert {c[3] for c in combos} == {2, 3}  # real and imaginary
    assert len(combos) == 6 * 2 * 4 * 2


def test_truth_affine_is_the_dicom_geometry(ci_cohort):
    for series in ("mdme", "flair"):
        datasets = _read_series(ci_cohort / "sub-ph01" / "dicom" / series)
        positions = np.array(
            sorted(
                {tuple(float(v) for v in ds.ImagePositionPatient) for ds in datasets},
                key=lambda p: p[2],
            )
        )
        ds = datasets[0]
        orientation = np.array([float(v) for v in ds.ImageOrientationPatient])
        spacing = [float(v) for v in ds.PixelSpacing]
        step = float(np.linalg.norm(positions[1] - positions[0]))
        affine = stack_affine(positions[0], orientation, spacing, step)
        for key in TRUTH:
            data, truth_affine = _truth(ci_cohort, "ph01", key)
            assert np.allclose(truth_affine, affine, atol=1e-4), key
            assert data.shape == (int(ds.Columns), int(ds.Rows), len(positions)), key
        assert float(ds.SliceThickness) == 4.0 and step == pytest.approx(5.0)


def _component(ds) -> int:
    return int(ds.private_block(0x0043, "GEMS_PARM_01")[0x2F].value)


def test_dicom_pixels_are_the_simulated_images(ci_cohort):
    """Orientation round trip: DICOM pixels against the truth maps on the NIfTI grid."""
    datasets = _read_series(ci_cohort / "sub-ph01" / "dicom" / "flair")
    datasets.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    flair = np.stack([ds.pixel_array.T * float(ds.RescaleSlope) for ds in datasets], axis=-1)
    truth, _ = _truth(ci_cohort, "ph01", "desc-noisefree_FLAIR")
    assert np.corrcoef(flair.ravel(), truth.ravel())[0, 1] > 0.9
    # The PD-weighted MDME image (TE1, TD4; no head motion) against the PD truth: the
    # right orientation fits clearly better than flips or a transposition.
    mdme = [
        ds
        for ds in _read_series(ci_cohort / "sub-ph01" / "dicom" / "mdme")
        if float(ds.EchoTime) == 16.9 and float(ds.TriggerTime) == 3879.0
    ]
    mdme.sort(key=lambda ds: (float(ds.ImagePositionPatient[2]), _component(ds)))
    parts = [ds.pixel_array.T * float(ds.RescaleSlope) for ds in mdme]
    magnitude = np.stack(
        [np.hypot(r, i) for r, i in zip(parts[0::2], parts[1::2], strict=True)], axis=-1
    )
    pd, _ = _truth(ci_cohort, "ph01", "PDmap")

    def corr(a, b):
        return np.corrcoef(a.ravel(), b.ravel())[0, 1]

    right = corr(magnitude, pd)
    assert right > 0.9
    for wrong in (pd[::-1], pd[:, ::-1], np.transpose(pd, (1, 0, 2)), pd[:, :, ::-1]):
        assert right > corr(magnitude, wrong) + 0.03


def test_fractions_sum_to_one_in_the_intracranial_mask(ci_cohort):
    mask, _ = _truth(ci_cohort, "ph01", "label-intracranial_mask")
    mask = mask.astype(bool)
    total = sum(
        _truth(ci_cohort, "ph01", f"label-{t}_probseg")[0] for t in ("WM", "GM", "CSF", "lesion")
    )
    assert mask.mean() > 0.2
    assert np.allclose(total[mask], 1.0, atol=1e-5)
    assert np.all(total[~mask] == 0)
    lesion, _ = _truth(ci_cohort, "ph01", "label-lesion_probseg")
    lesion_mask, _ = _truth(ci_cohort, "ph01", "label-lesion_mask")
    assert np.array_equal(lesion_mask.astype(bool), lesion >= 0.5)
    flair_lesion, _ = _truth(ci_cohort, "ph01", "space-FLAIR_label-lesion_probseg")
    flair_mask, _ = _truth(ci_cohort, "ph01", "space-FLAIR_label-lesion_mask")
    assert np.array_equal(flair_mask.astype(bool), flair_lesion >= 0.5)
    assert np.all((flair_lesion >= 0) & (flair_lesion <= 1 + 1e-6))


def test_relaxation_truth(ci_cohort):
    import pandas as pd

    tissues = pd.read_csv(ci_cohort / "sub-ph01" / "truth" / "sub-ph01_tissues.tsv", sep="\t")
    assert list(tissues.columns) == ["tissue", "T1_ms", "T2_ms", "PD"]
    wm_t1 = float(tissues.set_index("tissue").loc["WM", "T1_ms"])
    t1, _ = _truth(ci_cohort, "ph01", "T1map")
    wm, _ = _truth(ci_cohort, "ph01", "label-WM_probseg")
    assert np.allclose(t1[wm > 0.9], wm_t1, rtol=1e-6)
    assert set(np.unique(t1)) <= set(tissues["T1_ms"].astype(np.float32)) | {0.0}
    b1, _ = _truth(ci_cohort, "ph01", "B1map")
    mask, _ = _truth(ci_cohort, "ph01", "label-intracranial_mask")
    assert 0.84 < b1[mask > 0].min() and b1[mask > 0].max() < 1.16


def test_motion_json_matches_the_recorded_matrix(ci_cohort):
    record = json.loads((ci_cohort / "sub-ph02" / "truth" / "sub-ph02_motion.json").read_text())
    matrix = np.array(record["flair_from_mdme"])
    rebuilt = rigid_matrix(
        record["rotation_deg"], record["center_translation_mm"], record["center_mm"]
    )
    assert np.allclose(matrix, rebuilt)
    # Origin convention: rotation about the world origin, then translation_mm.
    origin = rigid_matrix(record["rotation_deg"], record["translation_mm"], (0.0, 0.0, 0.0))
    assert np.allclose(matrix, origin)
    center = np.append(record["center_mm"], 1.0)
    moved = (matrix @ center)[:3] - center[:3]
    assert np.allclose(moved, record["center_translation_mm"])
    assert max(map(abs, record["rotation_deg"])) <= 3.0
    assert max(map(abs, record["center_translation_mm"])) <= 3.0
    assert np.allclose(matrix[:3, :3] @ matrix[:3, :3].T, np.eye(3))


def test_fake_identifiers_are_in_the_dicom(ci_cohort):
    for series in ("mdme", "flair"):
        ds = pydicom.dcmread(next((ci_cohort / "sub-ph02" / "dicom" / series).glob("*.dcm")))
        assert str(ds.PatientName) == "Phantom^Subject02"
        assert ds.PatientID == "SYNFLAIR-PH02"
        assert ds.AccessionNumber == "ACC-PH02"
        assert ds.InstitutionName == "Synflair Phantom Hospital"
        assert len(ds.PatientBirthDate) == 8
    mdme = pydicom.dcmread(next((ci_cohort / "sub-ph02" / "dicom" / "mdme").glob("*.dcm")))
    flair = pydicom.dcmread(next((ci_cohort / "sub-ph02" / "dicom" / "flair").glob("*.dcm")))
    assert mdme.StudyInstanceUID == flair.StudyInstanceUID
    assert mdme.FrameOfReferenceUID == flair.FrameOfReferenceUID
    assert mdme.SeriesInstanceUID != flair.SeriesInstanceUID


def test_only_gives_the_same_bytes(ci_cohort, tmp_path, template):
    # ... also when the template anatomy comes from a cache file (the workflow's way)
    from synflair.phantom.template_cache import write_template

    cache = write_template(template, tmp_path.parent / f"{tmp_path.name}-template.npz")
    generate_cohort(tmp_path, 2, 11, "ci", only=["sub-ph02"], template=cache)
    cache.unlink()
    assert not (tmp_path / "sub-ph01").exists()
    for series in ("mdme", "flair"):
        full = sorted((ci_cohort / "sub-ph02" / "dicom" / series).glob("*.dcm"))
        alone = sorted((tmp_path / "sub-ph02" / "dicom" / series).glob("*.dcm"))
        assert [p.name for p in full] == [p.name for p in alone]
        assert all(a.read_bytes() == b.read_bytes() for a, b in zip(full, alone, strict=True))
    for key in TRUTH:
        a, _ = _truth(ci_cohort, "ph02", key)
        b, _ = _truth(tmp_path, "ph02", key)
        assert np.array_equal(a, b), key
    # subjects.tsv lists the subjects on disk, with their split in the whole cohort
    assert (tmp_path / "subjects.tsv").read_text() == "subject\tsplit\nph02\ttest\n"
    # The subject does not depend on the cohort size; a different seed changes it.
    other = tmp_path / "other"
    generate_cohort(other, 1, 12, "ci")
    a, _ = _truth(ci_cohort, "ph01", "desc-noisefree_FLAIR")
    b, _ = _truth(other, "ph01", "desc-noisefree_FLAIR")
    assert not np.array_equal(a, b)


def test_regenerating_replaces_the_subject_and_leaves_no_temporary(ci_cohort, tmp_path):
    generate_cohort(tmp_path, 3, 11, "ci", only=["ph03"])
    (tmp_path / "sub-ph03" / "stale.txt").write_text("old")
    generate_cohort(tmp_path, 3, 11, "ci", only=["ph03"])
    assert not (tmp_path / "sub-ph03" / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub-ph03", "subjects.tsv"]


def test_failure_leaves_no_partial_subject(tmp_path, monkeypatch):
    import synflair.phantom.output as output

    def broken(directory, *args, **kwargs):
        (Path(directory) / "dicom").mkdir(parents=True)
        (Path(directory) / "dicom" / "half.dcm").write_bytes(b"x")
        raise OSError("disk full")

    monkeypatch.setattr(output, "write_subject", broken)
    with pytest.raises(OSError, match="disk full"):
        generate_cohort(tmp_path, 2, 11, "ci", only=["ph01"])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_subjects": 0}, "--subjects must be a positive integer"),
        ({"n_subjects": -3}, "--subjects must be a positive integer"),
        ({"preset": "huge"}, "--preset must be one of"),
        ({"only": ["ph09"]}, "--only ph09: not in the cohort of 2"),
        ({"only": ["subject1"]}, "--only subject1"),
        ({"jobs": 0}, "--jobs"),
        ({"seed": -1}, "--seed"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    arguments = {"n_subjects": 2, "seed": 1, "preset": "ci", "only": None, "jobs": 1}
    arguments.update(kwargs)
    with pytest.raises(SynflairError, match=match):
        generate_cohort(tmp_path / "out", **arguments)
    assert not (tmp_path / "out").exists()


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SynflairError, match="cannot write"):
        generate.check_output_dir(blocker / "cohort")


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "synflair", "phantom", *args], capture_output=True, text=True
    )


def test_cli_errors_are_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args in (
        ["--out", str(tmp_path / "a"), "--subjects", "-2", "--preset", "ci"],
        ["--out", str(tmp_path / "b"), "--subjects", "2", "--preset", "tiny"],
        ["--out", str(blocker / "c"), "--subjects", "2", "--preset", "ci"],
        ["--out", str(tmp_path / "d"), "--subjects", "2", "--preset", "ci", "--only", "ph07"],
    ):
        result = _cli(*args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("synflair phantom: error:"), lines
    assert not any(p.name.startswith("sub-") for p in tmp_path.rglob("*"))


def test_rerun_removes_the_folder_of_a_killed_generation(tmp_path):
    import signal
    import subprocess
    import sys

    killed = (
        "import os, signal, sys\n"
        "from synflair.atomic import atomic_directory\n"
        "with atomic_directory(sys.argv[1]) as tmp:\n"
        "    (tmp / 'dicom').mkdir()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    run = subprocess.run([sys.executable, "-c", killed, str(tmp_path / "sub-ph01")], check=False)
    assert run.returncode == -signal.SIGKILL
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(".sub-ph01.") and left.name.endswith(".tmp")
    generate_cohort(tmp_path, 2, 11, "ci", only=["ph01"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub-ph01", "subjects.tsv"]
    assert (tmp_path / "subjects.tsv").read_text() == "subject\tsplit\nph01\ttrain\n"
