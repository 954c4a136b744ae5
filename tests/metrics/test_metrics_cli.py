import numpy as np
import pandas as pd
import pytest

from synflair.cli import main
from synflair.metrics.cli import parse_named_paths
from synflair.nifti import save

AFFINE = np.diag([0.5, 0.5, 5.0, 1.0])


def write_subject(folder, rng, *, dl_noise=60.0):
    shape = (20, 20, 6)
    mask = np.zeros(shape, bool)
    mask[2:18, 2:18, 1:5] = True
    dseg = np.zeros(shape, np.int16)
    dseg[2:6], dseg[6:11], dseg[11:18] = 1, 2, 3
    dseg[~mask] = 0
    base = np.select([dseg == 1, dseg == 2, dseg == 3], [200.0, 1500.0, 1100.0], 0.0)
    lesion = np.zeros(shape, bool)
    lesion[12:14, 12:14, 2] = True
    paths = {
        "reference": base + rng.normal(0, 30, shape) * mask,
        "synthetic": 0.01 * (base * 1.3 + rng.normal(0, 150, shape) * mask),
        "dl": base + rng.normal(0, dl_noise, shape) * mask,
        "mask": mask,
        "dseg": dseg,
        "les_conv": lesion,
        "les_dl": np.roll(lesion, 1, axis=0),
        "les_syn": np.roll(lesion, 1, axis=1) | np.roll(lesion, 1, axis=0),
    }
    folder.mkdir(parents=True, exist_ok=True)
    return {k: save(v, AFFINE, folder / f"{k}.nii.gz") for k, v in paths.items()}


def metrics_args(p, subject, out, *extra):
    return ["metrics", "--subject", subject, "--reference", str(p["reference"]),
            "--image", f"synthetic={p['synthetic']}", "--image", f"dl={p['dl']}",
            "--mask", str(p["mask"]), "--dseg", str(p["dseg"]),
            "--lesions", f"synthetic={p['les_syn']}", "--lesions", f"dl={p['les_dl']}",
            "--lesions", f"conventional={p['les_conv']}", "--out", str(out), *extra]  # fmt: skip


def test_metrics_cli_writes_the_tidy_table(tmp_path):
    p = write_subject(tmp_path / "in", np.random.default_rng(0))
    out = tmp_path / "sub-01_metrics.tsv"
    assert main(metrics_args(p, "01", out, "--lesion-truth", str(p["les_conv"]))) == 0
    table = pd.read_csv(out, sep="\t", dtype={"subject": str})
    assert list(table.columns) == ["subject", "image", "region", "scaling", "metric", "value",
                                   "n_voxels", "scale_factor", "note"]  # fmt: skip
    assert set(table["scaling"]) == {"raw", "common", "none"}
    assert set(table["image"]) == {"synthetic", "dl", "conventional"}
    assert {"dice_conventional", "dice_truth", "lesion_tpr_truth"} <= set(table["metric"])
    psnr = table[(table["metric"] == "psnr") & (table["scaling"] == "common")]
    assert psnr.set_index(["image", "region"])["value"].gt(20).all()


def test_peak_and_scaling_options(tmp_path):
    p = write_subject(tmp_path / "in", np.random.default_rng(0))
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    assert main(metrics_args(p, "01", a)) == 0
    assert main(metrics_args(p, "01", b, "--peak", "2550", "--scaling", "common")) == 0
    ta, tb = (pd.read_csv(x, sep="\t") for x in (a, b))
    assert set(tb["scaling"]) == {"common", "none"}
    key = (ta["metric"] == "psnr") & (ta["scaling"] == "common")
    np.testing.assert_allclose(ta.loc[key, "value"].to_numpy() - 20.0,
                               tb[(tb["metric"] == "psnr")]["value"].to_numpy())  # fmt: skip


def test_geometry_mismatch_and_bad_names_fail_cleanly(tmp_path, capsys):
    p = write_subject(tmp_path / "in", np.random.default_rng(0))
    moved = save(np.ones((20, 20, 6)), np.diag([0.5, 0.5, 4.0, 1.0]), tmp_path / "moved.nii.gz")
    out = tmp_path / "m.tsv"
    bad = dict(p, mask=moved)
    assert main(metrics_args(bad, "01", out)) == 2
    assert "moved.nii.gz and" in capsys.readouterr().err
    nan = save(np.full((20, 20, 6), np.nan), AFFINE, tmp_path / "nan.nii.gz")
    assert main(metrics_args(dict(p, dl=nan), "01", out)) == 2
    assert "nan.nii.gz: 2400 non-finite" in capsys.readouterr().err
    assert main(metrics_args(p, "01", out, "--image", "dl=x.nii.gz")) == 2
    assert "given twice" in capsys.readouterr().err
    assert not out.exists()


def test_parse_named_paths():
    assert parse_named_paths(["a=x.nii", "b-2=y=z.nii"], "--image") == {
        "a": "x.nii",
        "b-2": "y=z.nii",
    }
    for bad in (["noequals"], ["=x.nii"], ["a="], ["a b=x"]):
        with pytest.raises(Exception, match="--image"):
            parse_named_paths(bad, "--image")


def test_metrics_then_stats_end_to_end(tmp_path):
    rng = np.random.default_rng(2)
    outs = []
    for i in range(6):
        p = write_subject(tmp_path / f"s{i}", rng)
        out = tmp_path / "metrics" / f"sub-{i:02d}" / f"sub-{i:02d}_metrics.tsv"
        assert main(metrics_args(p, f"{i:02d}", out)) == 0
        outs.append(str(out))
    stats_dir = tmp_path / "stats"
    assert main(["stats", "--metrics", *outs, "--out-dir", str(stats_dir)]) == 0
    table = pd.read_csv(stats_dir / "table.tsv", sep="\t", dtype=str, keep_default_na=False)
    gm = table[(table["region"] == "GM") & (table["metric"] == "psnr")].iloc[0]
    # DL (noise 60) beats synthetic (noise 150 and a contrast error) in all 6 subjects.
    assert gm["p"] == "0.03125" and gm["method"] == "exact" and gm["n"] == "6"
    assert gm["percent_change"].startswith("+")
    tests = pd.read_csv(stats_dir / "tests.tsv", sep="\t")
    assert "dice_conventional" in set(tests["metric"])
    raw_dir = tmp_path / "stats_raw"
    assert main(["stats", "--metrics", *outs, "--out-dir", str(raw_dir), "--scaling", "raw"]) == 0
    raw = pd.read_csv(raw_dir / "table.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert raw.loc[0, "synthetic"] != table.loc[0, "synthetic"]


def test_stats_cli_errors(tmp_path, capsys):
    assert main(["stats", "--metrics", str(tmp_path / "none.tsv"), "--out-dir",
                 str(tmp_path)]) == 2  # fmt: skip
    assert "none.tsv: no such file; expected a metrics table" in capsys.readouterr().err
    rng = np.random.default_rng(0)
    p = write_subject(tmp_path / "s", rng)
    out = tmp_path / "m.tsv"
    assert main(metrics_args(p, "01", out)) == 0
    assert main(["stats", "--metrics", str(out), "--out-dir", str(tmp_path / "o"),
                 "--compare", "synthetic"]) == 2  # fmt: skip
    assert "compare must differ" in capsys.readouterr().err
    # One subject: tables are written, every p is NaN with the reason.
    assert main(["stats", "--metrics", str(out), "--out-dir", str(tmp_path / "one")]) == 0
    tests = pd.read_csv(tmp_path / "one" / "tests.tsv", sep="\t")
    assert tests["p"].isna().all()
    # lesion contrast is undefined here (too few lesion voxels): the subject is left out,
    # and the note says so and why
    nan_contrast = tests["metric"].str.startswith("lesion_contrast_")
    assert tests[~nan_contrast]["note"].str.contains("fewer than 2").all()
    assert tests[nan_contrast]["note"].str.contains("left out").all()
    assert tests[nan_contrast]["note"].str.contains("need 5 or more").all()
    assert (tests[nan_contrast]["n"] == 0).all()
