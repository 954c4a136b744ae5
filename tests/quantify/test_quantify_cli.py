import json

import nibabel as nib
import numpy as np
import pytest

from synflair.cli import main
from synflair.errors import SynflairError
from synflair.physics import MDME_PAPER, InversionRecoveryProtocol
from synflair.quantify.api import OUTPUTS, QuantifyOptions, default_prefix, quantify_file
from synflair.quantify.synthetic import synthetic_flair

AFFINE = np.array([[-2.0, 0, 0, 90], [0, 2.0, 0, -120], [0, 0, 5.0, -10], [0, 0, 0, 1]])
FILES = {
    "sub-01_T1map.nii.gz",
    "sub-01_T2map.nii.gz",
    "sub-01_PDmap.nii.gz",
    "sub-01_TB1map.nii.gz",
    "sub-01_R1map.nii.gz",
    "sub-01_desc-synthetic_FLAIR.nii.gz",
    "sub-01_desc-synthetic_T1w.nii.gz",
    "sub-01_desc-intracranial_mask.nii.gz",
}


def sidecar(**changes):
    data = {
        "EchoTime": [t / 1000 for t in MDME_PAPER.volume_te],
        "SaturationDelayTime": [t / 1000 for t in MDME_PAPER.volume_td],
        "RepetitionTime": 4.0,
        "FlipAngle": 90.0,
        "SaturationFlipAngle": 120.0,
        "ImageComponent": "magnitude",
    }
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def mdme_file(head, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mdme")
    path = folder / "sub-01_mdme.nii.gz"
    nib.save(nib.Nifti1Image(np.abs(head.signals).astype(np.float32), AFFINE), path)
    (folder / "sub-01_mdme.json").write_text(json.dumps(sidecar()))
    return path


def test_cli_writes_exactly_the_documented_files(mdme_file, head, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["quantify", "--mdme", str(mdme_file), "--out", str(out)]) == 0
    sidecars = {f.replace(".nii.gz", ".json") for f in FILES}
    assert {p.name for p in out.iterdir()} == FILES | sidecars
    assert set(capsys.readouterr().out.split()) == {str(out / f) for f in FILES}
    meta = {f: json.loads((out / f).read_text()) for f in sidecars}
    assert meta["sub-01_T1map.json"]["Units"] == "ms"
    assert meta["sub-01_R1map.json"]["Units"] == "1/s"
    assert meta["sub-01_desc-intracranial_mask.json"]["Type"] == "Brain"
    assert meta["sub-01_desc-synthetic_FLAIR.json"]["InversionTime"] == 3.0  # s (BIDS)
    assert meta["sub-01_TB1map.json"]["ExtrapolatedVoxels"] >= 0
    assert all("Units" in m for f, m in meta.items() if "mask" not in f)
    images = {f: nib.load(out / f) for f in FILES}
    for name, image in images.items():
        assert image.shape == head.icv.shape
        np.testing.assert_allclose(image.affine, AFFINE)
        expected = np.uint8 if "mask" in name else np.float32
        assert image.get_data_dtype() == expected
        assert np.all(np.isfinite(image.get_fdata()))
    t1 = images["sub-01_T1map.nii.gz"].get_fdata()
    wm = head.fractions["WM"] > 0.95
    assert np.median(t1[wm]) == pytest.approx(832.0, rel=0.03)
    mask = images["sub-01_desc-intracranial_mask.nii.gz"].get_fdata() > 0
    assert 2 * np.sum(mask & head.icv) / (mask.sum() + head.icv.sum()) > 0.95
    pd = images["sub-01_PDmap.nii.gz"].get_fdata()
    assert np.median(pd[head.fractions["CSF"] > 0.95]) == pytest.approx(100, rel=0.05)
    r1 = images["sub-01_R1map.nii.gz"].get_fdata()
    fitted = t1 > 0
    np.testing.assert_allclose(r1[fitted], 1000.0 / t1[fitted], rtol=1e-5)
    assert np.all(r1[~fitted] == 0)


def test_custom_protocols_and_prefix(mdme_file, tmp_path):
    flair = InversionRecoveryProtocol(tr=9000.0, te=124.0, ti=2472.0)
    paths = quantify_file(mdme_file, tmp_path, "custom", QuantifyOptions(flair=flair))
    assert set(paths) == set(OUTPUTS)
    assert paths["desc-synthetic_FLAIR"].name == "custom_desc-synthetic_FLAIR.nii.gz"
    maps = {k: np.asarray(nib.load(paths[k]).dataobj) for k in ("T1map", "T2map", "PDmap")}
    written = np.asarray(nib.load(paths["desc-synthetic_FLAIR"]).dataobj)
    np.testing.assert_allclose(
        written, synthetic_flair(maps["T1map"], maps["T2map"], maps["PDmap"], protocol=flair),
        rtol=1e-5, atol=1e-5,
    )  # fmt: skip
    argv = ["quantify", "--mdme", str(mdme_file), "--out", str(tmp_path / "b"), "--prefix", "x",
            "--flair-ti", "2472", "--flair-tr", "9000", "--flair-te", "124"]  # fmt: skip
    assert main(argv) == 0
    again = np.asarray(nib.load(tmp_path / "b" / "x_desc-synthetic_FLAIR.nii.gz").dataobj)
    np.testing.assert_array_equal(again, written)


def test_default_prefix():
    assert default_prefix("/d/sub-01_mdme.nii.gz") == "sub-01"
    assert default_prefix("exam.nii.gz") == "exam"
    assert default_prefix("exam_mdme.nii") == "exam"
    with pytest.raises(SynflairError):
        default_prefix("exam.dcm")


def run_cli(mdme, out, capsys, *extra):
    code = main(["quantify", "--mdme", str(mdme), "--out", str(out), *extra])
    return code, capsys.readouterr().err


def test_missing_or_bad_sidecar(head, tmp_path, capsys):
    path = tmp_path / "a_mdme.nii.gz"
    nib.save(nib.Nifti1Image(np.abs(head.signals[:8, :8]).astype(np.float32), AFFINE), path)
    code, err = run_cli(path, tmp_path / "o", capsys)
    assert code == 2 and "a_mdme.json: no such file" in err
    bad = sidecar(EchoTime=[0.0169] * 7)
    (tmp_path / "a_mdme.json").write_text(json.dumps(bad))
    code, err = run_cli(path, tmp_path / "o", capsys)
    assert code == 2 and "EchoTime has 7 entries but the image has 8 volumes" in err
    assert not (tmp_path / "o").exists()


def test_non_finite_input_names_the_file(tmp_path, capsys):
    data = np.ones((4, 4, 2, 8), dtype=np.float32)
    data[1, 1, 1, 3] = np.nan
    path = tmp_path / "n_mdme.nii.gz"
    nib.save(nib.Nifti1Image(data, AFFINE), path)
    (tmp_path / "n_mdme.json").write_text(json.dumps(sidecar()))
    code, err = run_cli(path, tmp_path / "o", capsys)
    assert code == 2 and str(path) in err and "non-finite" in err


def test_wrong_dimensionality_and_bad_options(tmp_path, capsys, mdme_file):
    path = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((4, 4, 2), dtype=np.float32), AFFINE), path)
    code, err = run_cli(path, tmp_path / "o", capsys)
    assert code == 2 and "expected a 4D image" in err
    code, err = run_cli(mdme_file, tmp_path / "o", capsys, "--t1w-te", "-10")
    assert code == 2 and "--t1w-te: EchoTime -10 ms must be finite and positive" in err
    code, err = run_cli(mdme_file, tmp_path / "o", capsys, "--prefix", "a/b")
    assert code == 2 and "--prefix" in err


def test_b1_smoothing_option(mdme_file, head, tmp_path):
    assert main(["quantify", "--mdme", str(mdme_file), "--out", str(tmp_path / "s")]) == 0
    argv = ["quantify", "--mdme", str(mdme_file), "--out", str(tmp_path / "v")]
    assert main([*argv, "--b1-smoothing", "0"]) == 0
    smooth = nib.load(tmp_path / "s" / "sub-01_TB1map.nii.gz").get_fdata()
    voxel = nib.load(tmp_path / "v" / "sub-01_TB1map.nii.gz").get_fdata()
    wm = head.fractions["WM"] > 0.95
    assert np.median(np.abs(smooth - head.b1)[wm]) < 0.5 * np.median(np.abs(voxel - head.b1)[wm])
