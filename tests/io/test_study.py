"""Study folders (PACS exports): finding the MDME and FLAIR series, compressed pixel data.

The study holds the MDME raw series (some files recompressed as JPEG-LS, JPEG
2000 and JPEG Lossless), the conventional FLAIR (compressed), a SyMRI-like
DERIVED copy of the FLAIR, a localizer and a README.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from dicom_cases import AXIAL, PATIENT, write_flair
from study_cases import SYNTAXES, build_study, compress, copy_series, enhanced_copy

from synflair.cli import main
from synflair.errors import SynflairError
from synflair.io.mdme import read_mdme
from synflair.io.study import choose, find_series


@pytest.fixture(scope="module")
def flair_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("flair") / "flair"
    write_flair(folder)
    return folder


@pytest.fixture(scope="module")
def study(acquisition, flair_dir, tmp_path_factory) -> Path:
    """MDME (every 4th file uncompressed, the rest in turn JPEG-LS, J2K, JPEG Lossless) + ..."""
    return build_study(
        tmp_path_factory.mktemp("study") / "exam",
        acquisition.directory,
        flair_dir,
        affine=AXIAL,
        patient=PATIENT,
        seed="s1",
        compressed={"mdme": [None, *SYNTAXES], "flair": list(SYNTAXES)},
    )


def _syntaxes(folder: Path) -> set[str]:
    return {
        str(pydicom.dcmread(p, stop_before_pixels=True).file_meta.TransferSyntaxUID)
        for p in folder.iterdir()
        if p.suffix == ".dcm"
    }


def test_study_holds_the_compressed_syntaxes(study):
    expected = {str(s) for s in SYNTAXES}
    assert expected < _syntaxes(study / "s005_MDME")  # and uncompressed files
    assert _syntaxes(study / "s007_FLAIR") == expected


def test_find_series_classifies_every_series(study, acquisition, caplog):
    with caplog.at_level(logging.INFO):
        found = find_series(study)
    roles = {v.series.description: (v.role, v.reason) for v in found.verdicts}
    assert set(roles) == {"MDME raw", "FLAIR", "SyMRI T2 FLAIR", "3Plane Loc SSFSE"}
    assert roles["MDME raw"][0] == "mdme"
    assert "2 EchoTime x 4 TriggerTime x real+imaginary" in roles["MDME raw"][1]
    assert "GE (0043,102F)" in roles["MDME raw"][1]
    assert "16 images per slice" in roles["MDME raw"][1]
    assert roles["FLAIR"] == ("flair", "FLAIR: InversionTime 2472 ms")
    assert roles["SyMRI T2 FLAIR"][0] == "skipped" and "DERIVED" in roles["SyMRI T2 FLAIR"][1]
    assert roles["3Plane Loc SSFSE"] == ("skipped", "localizer")
    mdme = choose(found, "mdme")
    assert sorted(mdme.files) == sorted(p for p in (study / "s005_MDME").glob("*.dcm"))
    assert str(pydicom.dcmread(acquisition.paths[0]).SeriesInstanceUID) == mdme.uid
    assert choose(found, "flair").files == tuple(sorted((study / "s007_FLAIR").glob("*.dcm")))
    assert "README.txt" in caplog.text  # the skipped non-DICOM file is named
    assert "SyMRI T2 FLAIR" in caplog.text  # the table is logged


def test_mdme_from_study_equals_its_own_folder_bit_for_bit(study, acquisition):
    own = read_mdme(acquisition.directory)
    files = choose(find_series(study), "mdme").files
    from_study = read_mdme([study], files=files)
    for name in ("signal", "background_phase", "affine"):
        a, b = getattr(own, name), getattr(from_study, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    assert (own.te, own.td, own.tr) == (from_study.te, from_study.td, from_study.tr)


def test_cli_converts_the_study_like_the_series_folders(study, acquisition, flair_dir, tmp_path):
    out = {name: tmp_path / f"{name}.nii.gz" for name in ("m0", "m1", "f0", "f1")}
    assert main(["dicom2nifti", "--kind", "mdme", "--dicom", str(acquisition.directory),
                 "--out", str(out["m0"])]) == 0  # fmt: skip
    assert main(["dicom2nifti", "--kind", "mdme", "--study", str(study), "--out",
                 str(out["m1"])]) == 0  # fmt: skip
    assert main(["dicom2nifti", "--kind", "standard", "--dicom", str(flair_dir), "--out",
                 str(out["f0"])]) == 0  # fmt: skip
    # dcm2niix decodes the JPEG-LS, JPEG 2000 and JPEG Lossless FLAIR files itself
    assert main(["dicom2nifti", "--kind", "standard", "--study", str(study), "--out",
                 str(out["f1"])]) == 0  # fmt: skip
    for a, b in (("m0", "m1"), ("f0", "f1")):
        x, y = nib.load(out[a]), nib.load(out[b])
        assert x.shape == y.shape and np.array_equal(np.asarray(x.dataobj), np.asarray(y.dataobj))
        assert np.array_equal(x.affine, y.affine)
    assert nib.load(out["f1"]).shape == (32, 32, 3)


@pytest.mark.parametrize("syntax", SYNTAXES, ids=lambda s: s.name.split(",")[0])
def test_compressed_pixels_decode_to_the_stored_values(acquisition, tmp_path, syntax):
    source = acquisition.paths[5]
    copy = Path(shutil.copy(source, tmp_path / "x.dcm"))
    compress(copy, syntax)
    assert str(pydicom.dcmread(copy).file_meta.TransferSyntaxUID) == str(syntax)
    assert np.array_equal(pydicom.dcmread(copy).pixel_array, pydicom.dcmread(source).pixel_array)


def _second_mdme(study, tmp_path) -> Path:
    copy = Path(shutil.copytree(study, tmp_path / "exam"))
    copy_series(copy / "s005_MDME", copy / "s006_MDME", description="MDME repeat", number=6,
                seed="repeat")  # fmt: skip
    return copy


def test_two_mdme_series_stop_with_the_list_and_the_way_to_choose(study, tmp_path):
    copy = _second_mdme(study, tmp_path)
    found = find_series(copy)
    with pytest.raises(SynflairError) as info:
        choose(found, "mdme")
    message = str(info.value)
    assert "2 series look like the MDME raw series (series 1, 6)" in message
    assert "mdme_series" in message and "SeriesInstanceUID or SeriesNumber" in message
    assert "'MDME repeat' (48 files" in message and "3Plane Loc SSFSE" in message
    assert "\n" not in message
    repeat = next(v.series for v in found.verdicts if v.series.number == "6")
    assert choose(found, "mdme", "6") == repeat
    assert choose(found, "mdme", repeat.uid) == repeat
    assert choose(found, "flair").description == "FLAIR"  # the FLAIR is still unambiguous


def test_a_choice_must_match_exactly_one_series(study, tmp_path):
    copy = Path(shutil.copytree(study, tmp_path / "exam"))
    copy_series(copy / "s007_FLAIR", copy / "s008", description="FLAIR 2", number=1, seed="x")
    found = find_series(copy)
    with pytest.raises(SynflairError, match="flair_series '42' matches no series"):
        choose(found, "flair", "42")
    with pytest.raises(SynflairError, match=r"mdme_series '1' matches 2 series.*needs the UID"):
        choose(found, "mdme", "1")


def test_flair_rules_inversion_time_description_sequence(study, tmp_path):
    copy = Path(shutil.copytree(study, tmp_path / "exam"))
    shutil.rmtree(copy / "s007_FLAIR")
    flair = [p for p in sorted((study / "s007_FLAIR").iterdir())]
    source = tmp_path / "flair"
    source.mkdir()
    for p in flair:
        shutil.copy(p, source / p.name)
    copy_series(source, copy / "a", description="T1 IR", number=10, seed="a", InversionTime="800")
    copy_series(source, copy / "b", description="Ax T2 FLAIR", number=11, seed="b",
                InversionTime=None, ScanningSequence="SE")  # fmt: skip
    copy_series(source, copy / "c", description="Ax T2", number=12, seed="c",
                InversionTime=None, ScanningSequence="SE")  # fmt: skip
    # a synthetic FLAIR that its software stored as ORIGINAL
    copy_series(source, copy / "d", description="SyMRI FLAIR", number=13, seed="d")
    verdicts = {v.series.number: v for v in find_series(copy).verdicts}
    assert verdicts["10"].role == "skipped"
    assert "InversionTime 800 ms: T1-weighted IR or STIR" in verdicts["10"].reason
    assert verdicts["11"].role == "flair" and "description 'Ax T2 FLAIR'" in verdicts["11"].reason
    assert verdicts["12"].role == "skipped" and "not described as FLAIR" in verdicts["12"].reason
    assert verdicts["13"].role == "skipped" and "synthetic contrast" in verdicts["13"].reason
    assert [v.series.number for v in find_series(copy).candidates("flair")] == ["11"]


def test_non_image_dicom_in_a_study_is_skipped_and_named(study, tmp_path, caplog):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    copy = Path(shutil.copytree(study, tmp_path / "exam"))
    report = Dataset()
    report.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.67"  # X-Ray Radiation Dose SR
    report.SOPInstanceUID = generate_uid()
    report.SeriesInstanceUID = generate_uid()
    report.Modality = "SR"
    report.file_meta = FileMetaDataset()
    report.file_meta.MediaStorageSOPClassUID = report.SOPClassUID
    report.file_meta.MediaStorageSOPInstanceUID = report.SOPInstanceUID
    report.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    (copy / "sr").mkdir()
    report.save_as(copy / "sr" / "dose.dcm", enforce_file_format=True)
    with caplog.at_level(logging.WARNING):
        found = find_series(copy)
    assert len(found.verdicts) == 4
    assert "dose.dcm" in caplog.text and "without an image" in caplog.text
    # the MDME importer, given the folder itself, still refuses it
    with pytest.raises(SynflairError, match=r"dose\.dcm"):
        read_mdme(copy / "sr")


def test_no_flair_in_the_study(study, tmp_path):
    copy = Path(shutil.copytree(study, tmp_path / "exam"))
    shutil.rmtree(copy / "s007_FLAIR")
    with pytest.raises(SynflairError) as info:
        choose(find_series(copy), "flair")
    assert "no conventional FLAIR series found among 3 series" in str(info.value)
    assert "SyMRI T2 FLAIR" in str(info.value) and "DERIVED" in str(info.value)


def test_enhanced_multiframe_is_skipped_in_a_study_and_refused_as_mdme(study, tmp_path):
    copy = Path(shutil.copytree(study, tmp_path / "exam"))
    enhanced = enhanced_copy(copy / "s005_MDME", tmp_path / "enh" / "mdme.dcm")
    shutil.rmtree(copy / "s005_MDME")
    shutil.copytree(enhanced.parent, copy / "s005_MDME")
    found = find_series(copy)
    verdict = next(v for v in found.verdicts if v.series.description == "MDME raw")
    assert verdict.role == "skipped"
    assert "Enhanced MR Image Storage" in verdict.reason and "single-frame" in verdict.reason
    with pytest.raises(SynflairError, match="no MDME raw series found"):
        choose(found, "mdme")
    with pytest.raises(SynflairError) as info:
        read_mdme(enhanced.parent)
    assert str(enhanced) in str(info.value)
    assert "export the series" in str(info.value) and "classic (single-frame)" in str(info.value)


def test_find_series_cli_prints_the_table(study, capsys):
    assert main(["find-series", str(study)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["series", "files", "role", "description"]
    assert len(lines) == 1 + 4 + 2
    assert "mdme: series 1 'MDME raw' (48 files)" in out
    assert "flair: series 2 'FLAIR' (3 files)" in out


#: Blocks the decoder plugins' imports, as in an environment where they are not installed.
_WITHOUT_PLUGINS = """
import sys
for name in ("pylibjpeg", "libjpeg", "openjpeg", "jpeg_ls", "PIL", "gdcm"):
    sys.modules[name] = None
from synflair.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_missing_decoder_names_the_file_and_the_package(acquisition, tmp_path):
    folder = Path(shutil.copytree(acquisition.directory, tmp_path / "mdme"))
    target = sorted(folder.iterdir())[7]
    compress(target, SYNTAXES[0])  # JPEG-LS
    out = tmp_path / "x.nii.gz"
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PLUGINS, "dicom2nifti", "--kind", "mdme", "--dicom",
         str(folder), "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert str(target) in errors[0] and "JPEG-LS Lossless" in errors[0]
    assert "install python-gdcm" in errors[0]
    assert not out.exists()
