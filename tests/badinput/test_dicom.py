"""Bad DICOM inputs to ``synflair dicom2nifti`` (issue 11, items 2 and 8).

Each case damages a private copy of a tiny MDME acquisition (8 x 8 voxels, 2
slices, the paper's 8 volumes as real + imaginary: 32 files) or FLAIR series
and checks that the command refuses it with one line naming the file,
attribute or option, writes neither ``OUT.nii.gz`` nor ``OUT.json`` and leaves
the DICOM unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from badinput_harness import assert_refused

from synflair.geometry import stack_affine
from synflair.io.dicom_write import PatientInfo, write_magnitude_dicom, write_mdme_dicom
from synflair.physics import CONVENTIONAL_FLAIR, MDME_PAPER

SHAPE = (8, 8, 2)
AFFINE = stack_affine([-30.0, -30.0, 0.0], [1, 0, 0, 0, 1, 0], [7.5, 7.5], 5.0)
PATIENT = PatientInfo(name="Corpus^Case", patient_id="BADIN0042", birth_date="19700101")


def _maps():
    x, y = np.meshgrid(np.arange(SHAPE[0]), np.arange(SHAPE[1]), indexing="ij")
    r = np.hypot(x - 3.5, y - 3.5)[..., None] * np.ones(SHAPE[2])
    t1 = np.where(r < 2, 4000.0, 900.0)
    t2 = np.where(r < 2, 1000.0, 80.0)
    pd = np.where(r < 3.8, 0.8, 0.0)
    return t1, t2, pd


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> dict[str, Path]:
    """The pristine MDME and FLAIR folders (copied by each case, never changed)."""
    root = tmp_path_factory.mktemp("dicom")
    t1, t2, pd = _maps()
    phase = 0.5 + 0.2 * np.arange(SHAPE[0])[:, None, None] * np.ones(SHAPE)
    raw = MDME_PAPER.signal(t1, t2, pd) * np.exp(1j * phase)[..., None]
    write_mdme_dicom(
        raw, AFFINE, root / "mdme", protocol=MDME_PAPER, patient=PATIENT, uid_seed="bad",
        slice_thickness=5.0,
    )  # fmt: skip
    flair = CONVENTIONAL_FLAIR.signal(t1, t2, pd) * 1000.0
    write_magnitude_dicom(
        flair, AFFINE, root / "flair", patient=PATIENT, uid_seed="bad", slice_thickness=5.0,
        tr=CONVENTIONAL_FLAIR.tr, te=CONVENTIONAL_FLAIR.te, ti=CONVENTIONAL_FLAIR.ti,
    )  # fmt: skip
    return {"mdme": root / "mdme", "flair": root / "flair"}


def _edit(path: Path, **attributes) -> None:
    ds = pydicom.dcmread(path)
    for keyword, value in attributes.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    ds.save_as(path, enforce_file_format=True)


def _edit_all(folder: Path, **attributes) -> None:
    for path in sorted(folder.iterdir()):
        _edit(path, **attributes)


def _nth(folder: Path, n: int) -> Path:
    return sorted(folder.iterdir())[n]


def _truncate(path: Path, keep: int) -> Path:
    """Keep the first ``keep`` bytes (negative: drop the last ``-keep``)."""
    path.write_bytes(path.read_bytes()[:keep])
    return path


# Each case: (kind, build(folder of the MDME copy, the FLAIR copy) -> names, extra options).
# ``build`` damages the copies and returns what the error line must name.


def _slope(value):
    def build(mdme, flair):
        path = _nth(mdme, 5)
        _edit(path, RescaleSlope=value)
        return [str(path), "RescaleSlope", "expected a finite positive slope"]

    return build


def _intercept(value):
    def build(mdme, flair):
        path = _nth(mdme, 7)
        _edit(path, RescaleIntercept=value)
        return [str(path), "RescaleIntercept", "expected a finite intercept"]

    return build


def _inconsistent_slope(mdme, flair):
    path = _nth(mdme, 4)
    ds = pydicom.dcmread(path)
    _edit(path, RescaleSlope=f"{float(ds.RescaleSlope) * 4:.10g}")
    return [str(path), "RescaleSlope", "expected one RescaleSlope per series and component"]


def _philips_spread(mdme, flair):
    """Philips rescales per image; a slope 10^4 times its neighbours' is still refused."""
    _edit_all(mdme, Manufacturer="Philips Medical Systems")
    path = _nth(mdme, 6)
    ds = pydicom.dcmread(path)
    _edit(path, RescaleSlope=f"{float(ds.RescaleSlope) * 1e4:.10g}")
    return [str(path), "RescaleSlope", "expected per-image slopes within a factor 1000"]


def _missing(keyword):
    def build(mdme, flair):
        path = _nth(mdme, 3)
        _edit(path, **{keyword: None})
        return [str(path), f"missing DICOM attribute {keyword}"]

    return build


def _truncated_pixels(mdme, flair):
    path = _truncate(_nth(mdme, 10), -60)
    return [str(path), "unreadable or truncated DICOM file", "bytes of pixel data; expected 128"]


def _truncated_header(mdme, flair):
    path = _truncate(_nth(mdme, 2), 300)
    return [str(path), "unreadable or truncated DICOM file"]


def _only_a_truncated_file(mdme, flair):
    keep = _nth(mdme, 1)
    for path in sorted(mdme.iterdir()):
        if path != keep:
            path.unlink()
    _truncate(keep, -100)
    return [str(mdme), str(keep), "no readable DICOM file among 1 file(s)", "truncated"]


def _empty_file(mdme, flair):
    path = mdme / "zero.dcm"
    path.write_bytes(b"")
    return [str(path), "not a DICOM file, or an unreadable or truncated one (0 bytes"]


def _non_dicom_only(mdme, flair):
    shutil.rmtree(mdme)
    mdme.mkdir()
    (mdme / "notes.txt").write_text("MDME exported on another day\n" * 10)
    (mdme / "scan.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 300)
    return [str(mdme), "no readable DICOM file among 2 file(s)", "notes.txt: not a DICOM file"]


def _empty_folder(mdme, flair):
    shutil.rmtree(mdme)
    mdme.mkdir()
    (mdme / ".DS_Store").write_bytes(b"\x00")  # hidden junk only
    return [f"no files in {mdme}"]


def _mixed_with_flair(mdme, flair):
    for path in flair.iterdir():
        shutil.copy(path, mdme / path.name)
    return [
        str(mdme),
        "these are 2 series: series 1 'MDME raw' (32 files",
        "series 2 'FLAIR' (2 files",
        "not one MDME acquisition",
    ]


def _echo_time_in_seconds(mdme, flair):
    for path in sorted(mdme.iterdir()):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        _edit(path, EchoTime=f"{float(ds.EchoTime) / 1000:.6g}")
    return [str(mdme), "EchoTime [0.0169, 0.0845] looks like seconds; DICOM uses milliseconds"]


def _delay_in_seconds(mdme, flair):
    for path in sorted(mdme.iterdir()):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        _edit(path, TriggerTime=f"{float(ds.TriggerTime) / 1000:.6g}")
    return [str(mdme), "TriggerTime [0.146, 0.546, 1.879, 3.879] looks like seconds"]


def _flip_in_radians(mdme, flair):
    _edit_all(mdme, FlipAngle="1.5708")
    return [str(mdme), "FlipAngle 1.5708 looks like radians; DICOM uses degrees"]


def _tr_zero(mdme, flair):
    _edit_all(mdme, RepetitionTime="0")
    return [str(mdme), "RepetitionTime 0 ms must be finite and positive"]


def _missing_image(mdme, flair):
    _nth(mdme, 0).unlink()
    return ["missing image(s) (slice 1", "expected each of 2 slice(s)"]


def _out_is_a_directory(mdme, flair):
    return ["is a directory; expected a .nii.gz file path"]


def _saturation_angle_radians(mdme, flair):
    return ["--saturation-angle: saturation flip angle 2.1 looks like radians"]


def _standard_two_series(mdme, flair):
    other = flair.parent / "other"
    pd = _maps()[2]
    write_magnitude_dicom(
        pd * 100, AFFINE, other, patient=PATIENT, uid_seed="b", slice_thickness=5.0, tr=500,
        te=10, series_number=7, series_description="T1w",
    )  # fmt: skip
    for path in other.iterdir():
        shutil.move(path, flair / path.name)
    other.rmdir()
    return [str(flair), "these are 2 series", "series 2 'FLAIR' (2 files", "series 7 'T1w' (2"]


def _standard_truncated(mdme, flair):
    path = _truncate(_nth(flair, 1), -40)
    return [str(path), "unreadable or truncated DICOM file", "expected 128"]


def _standard_non_dicom(mdme, flair):
    for path in flair.iterdir():
        path.unlink()
    (flair / "readme.md").write_text("# FLAIR\n")
    return [str(flair), "no readable DICOM file among 1 file(s)", "readme.md: not a DICOM file"]


def _missing_folder(mdme, flair):
    shutil.rmtree(mdme)
    return [str(mdme), "no such directory (expected a folder of DICOM files)"]


def _folder_is_a_file(mdme, flair):
    shutil.rmtree(mdme)
    mdme.write_bytes(b"DICM")
    return [str(mdme), "is a file, not a directory"]


MDME, STANDARD = "mdme", "standard"
CASES = {
    "rescale-slope-1e30": (MDME, _slope("1e30"), []),
    "rescale-slope-nan": (MDME, _slope("NaN"), []),
    "rescale-slope-zero": (MDME, _slope("0"), []),
    "rescale-slope-negative": (MDME, _slope("-0.5"), []),
    "rescale-philips-spread": (MDME, _philips_spread, []),
    "rescale-intercept-inf": (MDME, _intercept("inf"), []),
    "rescale-intercept-1e12": (MDME, _intercept("1e12"), []),
    "rescale-inconsistent": (MDME, _inconsistent_slope, []),
    "missing-echo-time": (MDME, _missing("EchoTime"), []),
    "missing-flip-angle": (MDME, _missing("FlipAngle"), []),
    "missing-orientation": (MDME, _missing("ImageOrientationPatient"), []),
    "truncated-pixel-data": (MDME, _truncated_pixels, []),
    "truncated-header": (MDME, _truncated_header, []),
    "only-a-truncated-file": (MDME, _only_a_truncated_file, []),
    "empty-dcm-file": (MDME, _empty_file, []),
    "non-dicom-only": (MDME, _non_dicom_only, []),
    "empty-folder": (MDME, _empty_folder, []),
    "missing-folder": (MDME, _missing_folder, []),
    "folder-is-a-file": (MDME, _folder_is_a_file, []),
    "mixed-with-flair": (MDME, _mixed_with_flair, []),
    "echo-time-in-seconds": (MDME, _echo_time_in_seconds, []),
    "delay-in-seconds": (MDME, _delay_in_seconds, []),
    "flip-angle-in-radians": (MDME, _flip_in_radians, []),
    "repetition-time-zero": (MDME, _tr_zero, []),
    "missing-image": (MDME, _missing_image, []),
    "saturation-angle-in-radians": (MDME, _saturation_angle_radians, ["--saturation-angle", "2.1"]),
    "out-is-a-directory": (MDME, _out_is_a_directory, ["OUT_IS_DIR"]),
    "standard-two-series": (STANDARD, _standard_two_series, []),
    "standard-truncated": (STANDARD, _standard_truncated, []),
    "standard-non-dicom": (STANDARD, _standard_non_dicom, []),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_dicom_is_refused(series, tmp_path, capsys, case):
    kind, build, extra = CASES[case]
    if kind == STANDARD and shutil.which("dcm2niix") is None:
        pytest.skip("needs dcm2niix")
    mdme = Path(shutil.copytree(series["mdme"], tmp_path / "in" / "mdme"))
    flair = Path(shutil.copytree(series["flair"], tmp_path / "in" / "flair"))
    names = build(mdme, flair)
    out = tmp_path / "out" / "sub-01.nii.gz"
    outputs = [out, out.with_name("sub-01.json")]
    if extra == ["OUT_IS_DIR"]:
        out.mkdir(parents=True)
        names = [f"--out {out}", *names]
        outputs, extra = [out.with_name("sub-01.json")], []
    folder = mdme if kind == MDME else flair
    assert_refused(
        ["dicom2nifti", "--kind", kind, "--dicom", folder, "--out", out, *extra],
        capsys,
        names=names,
        outputs=outputs,
        inputs=[tmp_path / "in"],
    )
    if case == "out-is-a-directory":
        assert out.is_dir() and not any(out.iterdir())  # left as it was
