import json

import nibabel as nib
import numpy as np
import pytest

from synflair.cli import main
from synflair.io.sidecar import sidecar_path
from synflair.lesions import LesionParams
from synflair.metrics import dice
from synflair.nifti import save


@pytest.fixture
def files(simulated, tmp_path):
    paths = {}
    for name in ("flair", "mask", "gm", "wm", "csf", "truth"):
        data = getattr(simulated, name)
        paths[name] = save(data, simulated.affine, tmp_path / f"{name}.nii.gz")
    return paths


def args(files, out, *extra):
    return ["lesions", "--flair", str(files["flair"]), "--mask", str(files["mask"]),
            "--gm", str(files["gm"]), "--wm", str(files["wm"]), "--csf", str(files["csf"]),
            "--out", str(out), *extra]  # fmt: skip


def test_cli_writes_mask_belief_and_sidecar(files, simulated, tmp_path):
    out = tmp_path / "sub-01_desc-conventional_lesions.nii.gz"
    belief = tmp_path / "sub-01_desc-conventional_belief.nii.gz"
    assert main(args(files, out, "--belief-out", str(belief))) == 0
    image = nib.load(out)
    np.testing.assert_allclose(image.affine, simulated.affine)
    lesions = np.asarray(image.dataobj)
    assert image.get_data_dtype() == np.uint8 and set(np.unique(lesions)) <= {0, 1}
    assert dice(lesions, simulated.truth) >= 0.7
    assert nib.load(belief).shape == simulated.flair.shape
    meta = json.loads(sidecar_path(out).read_text())
    assert sidecar_path(out).name == "sub-01_desc-conventional_lesions.json"
    assert meta["source"] == "automatic" and meta["n_lesions"] >= 10
    assert meta["volume_ml"] == pytest.approx(lesions.sum() * 20 / 1000)
    assert meta["params"]["kappa"] == LesionParams().kappa
    assert set(meta["tissue_statistics"]) == {"GM", "WM", "CSF"}


def test_cli_parameters_change_the_result(files, tmp_path):
    loose = tmp_path / "loose.nii.gz"
    strict = tmp_path / "strict.nii.gz"
    assert main(args(files, loose, "--boundary-fraction", "0.2")) == 0
    assert main(args(files, strict, "--boundary-fraction", "0.7", "--connectivity", "3",
                     "--ribbon-mm", "3")) == 0  # fmt: skip
    assert np.asarray(nib.load(loose).dataobj).sum() > np.asarray(nib.load(strict).dataobj).sum()
    params = json.loads(sidecar_path(strict).read_text())["params"]
    assert params["connectivity"] == 3 and params["ribbon_mm"] == 3.0
    assert json.loads(sidecar_path(loose).read_text())["params"]["ribbon_mm"] == 2.0


def test_override_is_written_instead(files, simulated, tmp_path):
    out = tmp_path / "lesions.nii.gz"
    assert main(args(files, out, "--override", str(files["truth"]))) == 0
    np.testing.assert_array_equal(np.asarray(nib.load(out).dataobj) > 0, simulated.truth)
    meta = json.loads(sidecar_path(out).read_text())
    assert meta["source"] == "override" and meta["override"] == str(files["truth"])
    assert meta["automatic_n_voxels"] > 0


def test_override_on_another_grid_is_rejected(files, simulated, tmp_path, capsys):
    other = save(simulated.truth, np.diag([1.0, 1.0, 1.0, 1.0]), tmp_path / "other.nii.gz")
    out = tmp_path / "lesions.nii.gz"
    assert main(args(files, out, "--override", str(other))) == 2
    assert "different affines" in capsys.readouterr().err
    assert not out.exists()


def test_mismatched_tissue_map_and_bad_option_fail_cleanly(files, simulated, tmp_path, capsys):
    small = save(simulated.gm[:-1], simulated.affine, tmp_path / "gm_small.nii.gz")
    bad = dict(files, gm=small)
    out = tmp_path / "lesions.nii.gz"
    assert main(args(bad, out)) == 2
    err = capsys.readouterr().err
    assert "gm_small.nii.gz has shape" in err and "flair.nii.gz" in err
    assert main(args(files, out, "--kappa", "2")) == 2
    assert "kappa must be in (0, 1]" in capsys.readouterr().err
    assert not out.exists()


def test_empty_mask_fails_cleanly(files, simulated, tmp_path, capsys):
    empty = save(np.zeros(simulated.mask.shape), simulated.affine, tmp_path / "empty.nii.gz")
    out = tmp_path / "lesions.nii.gz"
    assert main(args(dict(files, mask=empty), out)) == 2
    assert "empty.nii.gz: the brain mask is empty" in capsys.readouterr().err


def _write_transform(path, shift_mm):
    matrix = np.eye(4)
    matrix[:3, 3] = shift_mm
    path.write_text(json.dumps({"fixed_to_moving_world": matrix.tolist()}))
    return path


def test_transform_segments_the_flair_on_its_own_grid(files, simulated, tmp_path, capsys):
    # The FLAIR on its own grid: one slice (5 mm) higher in the world than the tissue maps,
    # the head moved with it, so x_flair = x_maps + 5 mm.
    moved = simulated.affine.copy()
    moved[2, 3] += 5.0
    flair = save(simulated.flair, moved, tmp_path / "flair_native.nii.gz")
    native = dict(files, flair=flair)
    plain, carried, wrong = (tmp_path / f"{n}.nii.gz" for n in ("plain", "carried", "wrong"))
    belief = tmp_path / "belief.nii.gz"
    assert main(args(files, plain)) == 0
    xfm = _write_transform(tmp_path / "xfm.json", (0.0, 0.0, 5.0))
    assert main(args(native, carried, "--transform", str(xfm), "--belief-out", str(belief))) == 0
    image = nib.load(carried)
    np.testing.assert_allclose(image.affine, simulated.affine)  # written on the maps' grid
    # The maps land on the FLAIR's voxels exactly: the same lesions as on one shared grid.
    np.testing.assert_array_equal(np.asarray(image.dataobj), np.asarray(nib.load(plain).dataobj))
    assert nib.load(belief).shape == simulated.mask.shape
    meta = json.loads(sidecar_path(carried).read_text())
    assert meta["segmented_on"] == f"the FLAIR's own grid, carried by {xfm}"
    # The wrong transform (identity: no head motion) puts the tissue maps a slice off.
    identity = _write_transform(tmp_path / "identity.json", (0.0, 0.0, 0.0))
    assert main(args(native, wrong, "--transform", str(identity))) == 0
    found = dice(np.asarray(image.dataobj), simulated.truth)
    assert found >= 0.7 and dice(np.asarray(nib.load(wrong).dataobj), simulated.truth) < found - 0.1
    # Without the transform the grids differ: refused, naming both files.
    assert main(args(native, tmp_path / "x.nii.gz")) == 2
    err = capsys.readouterr().err
    assert "mask.nii.gz" in err and "flair_native.nii.gz" in err


def test_transform_that_misses_the_flair_or_is_unreadable_fails_cleanly(files, tmp_path, capsys):
    out = tmp_path / "lesions.nii.gz"
    far = _write_transform(tmp_path / "far.json", (0.0, 0.0, 5000.0))
    assert main(args(files, out, "--transform", str(far))) == 2
    err = capsys.readouterr().err
    assert "far.json" in err and "does not overlap" in err
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    assert main(args(files, out, "--transform", str(broken))) == 2
    assert "broken.json" in capsys.readouterr().err
    assert not out.exists()


def test_tissue_maps_segmented_from_an_r1_map(simulated, files, tmp_path):
    """``--t1`` given an R1 map (the workflow's default segmentation input, WM brightest)."""
    s = simulated
    gm_only = np.clip(s.gm - s.lesion_fraction, 0, 1)
    r1 = gm_only / 1.33 + s.wm / 0.83 + s.csf / 4.0 + s.lesion_fraction / 1.35  # 1/s
    r1 = r1 + np.random.default_rng(2).normal(0, 0.01, r1.shape) * s.mask
    r1_path = save(r1.astype(np.float32), s.affine, tmp_path / "r1map.nii.gz")
    out = tmp_path / "lesions.nii.gz"
    argv = ["lesions", "--flair", str(files["flair"]), "--t1", str(r1_path), "--mask",
            str(files["mask"]), "--backend", "ants", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    lesions = np.asarray(nib.load(out).dataobj) > 0
    meta = json.loads(sidecar_path(out).read_text())
    print(f"R1-based maps: Dice {dice(lesions, s.truth):.3f}")
    assert meta["tissue_maps"].startswith(f"segmented from {r1_path}")
    assert dice(lesions, s.truth) >= 0.7
