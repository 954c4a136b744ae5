import nibabel as nib
import numpy as np
import pytest

from synflair.cli import main
from synflair.errors import SynflairError
from synflair.physics import MDME_PAPER, SYNTHETIC_FLAIR
from synflair.preprocess import CSFSuppression, criterion_value, csf_suppress

#: 3 T values (T1 ms, T2 ms, PD), as in the phantom (synflair.phantom.tissues).
TISSUES = {
    "WM": (832.0, 80.0, 0.68),
    "GM": (1331.0, 100.0, 0.79),
    "CSF": (4000.0, 1500.0, 1.0),
    "lesion": (1300.0, 150.0, 0.85),
    "muscle": (1412.0, 50.0, 0.70),
}
SIGMA = 0.0135  # SNR ~40 in WM at TD4/TE1


def simulate(rng, fractions: dict, n: int, b1=1.0):
    """Magnitude MDME signals (n, 8) of tissue mixtures with complex noise, and their FLAIR."""
    signal, flair = 0.0, 0.0
    for name, f in fractions.items():
        t1, t2, pd = TISSUES[name]
        signal = signal + f * MDME_PAPER.signal(np.full(n, t1), t2, pd, b1)
        flair = flair + f * SYNTHETIC_FLAIR.signal(t1, t2, 100 * pd)
    noise = rng.standard_normal((n, 8)) + 1j * rng.standard_normal((n, 8))
    return np.abs(signal + SIGMA * noise), np.full(n, flair, dtype=np.float32)


def suppressed_fraction(rng, fractions, rule=None, n=4000):
    b1 = rng.uniform(0.85, 1.15, n)
    mdme, flair = simulate(rng, fractions, n, b1)
    return csf_suppress(flair, mdme, rule)[1].mean()


def test_default_rule_selects_csf_and_spares_parenchyma():
    rng = np.random.default_rng(0)
    assert suppressed_fraction(rng, {"CSF": 1.0}) >= 0.9
    for name in ("GM", "WM", "lesion"):
        assert suppressed_fraction(rng, {name: 1.0}) <= 0.02


def test_partial_volume_rims_are_suppressed_from_about_half_csf():
    rng = np.random.default_rng(1)
    assert suppressed_fraction(rng, {"CSF": 0.7, "GM": 0.3}) > 0.9
    assert suppressed_fraction(rng, {"CSF": 0.2, "GM": 0.8}) < 0.05


def test_literal_reading_selects_no_csf_but_muscle():
    rng = np.random.default_rng(2)
    literal = CSFSuppression(t2_form="one_minus_ratio")
    assert suppressed_fraction(rng, {"CSF": 1.0}, literal) < 0.01
    assert suppressed_fraction(rng, {"muscle": 1.0}, literal) > 0.3
    assert suppressed_fraction(rng, {"muscle": 1.0}) < 0.01


def test_the_papers_ratios_in_delay_major_order():
    # S5 = TD3 TE1, S7 = TD4 TE1, S8 = TD4 TE2
    t1, t2, pd = TISSUES["CSF"]
    s = MDME_PAPER.signal(t1, t2, pd)[None]
    ir = criterion_value(s, (5, 7), "one_minus_ratio")
    t2_ratio = criterion_value(s, (8, 7), "ratio")
    m = MDME_PAPER.signal(t1, 1e12, 1.0)  # no T2 decay: the recovery alone
    assert ir[0] == pytest.approx(1 - m[4] / m[6])
    assert t2_ratio[0] == pytest.approx(np.exp(-(84.5 - 16.9) / t2))


def test_target_is_zero_exactly_where_suppressed():
    rng = np.random.default_rng(3)
    mdme, flair = simulate(rng, {"CSF": 1.0}, 50)
    mdme[:10], flair[:10] = simulate(rng, {"WM": 1.0}, 10)
    target, mask = csf_suppress(flair, mdme)
    assert target.dtype == np.float32
    np.testing.assert_array_equal(target[mask], 0)
    np.testing.assert_array_equal(target[~mask], flair[~mask])
    assert not mask[:10].any() and mask[10:].mean() > 0.9


def test_zero_denominator_is_never_suppressed_and_gives_no_warning():
    mdme = np.zeros((3, 8))
    mdme[1, 4] = 1.0
    with np.errstate(all="raise"):
        target, mask = csf_suppress(np.ones(3), mdme)
    assert not mask.any() and np.all(target == 1)


def test_thresholds_and_indices_are_configurable():
    rng = np.random.default_rng(4)
    loose = CSFSuppression(ir_threshold=0.1, t2_threshold=0.3)
    assert suppressed_fraction(rng, {"GM": 1.0}, loose) > 0.9
    # swapped images invert the T2 ratio: S7/S8 ~ 1.05 in CSF, not above 1.5
    swapped = CSFSuppression(t2_index=(7, 8), t2_threshold=1.5)
    assert suppressed_fraction(rng, {"CSF": 1.0}, swapped) < 0.01
    everything = CSFSuppression(ir_threshold=-1.0, t2_threshold=0.0)
    assert suppressed_fraction(rng, {"WM": 1.0}, everything) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ir_index": (5, 5)}, "ir_index"),
        ({"t2_index": (0, 7)}, "t2_index"),
        ({"t2_index": (8,)}, "t2_index"),
        ({"ir_index": (5.5, 7)}, "ir_index"),
        ({"ir_threshold": "0.3"}, "ir_threshold"),
        ({"t2_threshold": float("nan")}, "t2_threshold"),
        ({"ir_form": "difference"}, "ir_form"),
    ],
)
def test_rule_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CSFSuppression(**kwargs)


def test_bad_shapes():
    with pytest.raises(SynflairError, match="expected the FLAIR shape"):
        csf_suppress(np.ones((4, 4)), np.ones((4, 5, 8)))
    with pytest.raises(SynflairError, match="reads image 8 but the MDME has 6"):
        csf_suppress(np.ones(4), np.ones((4, 6)))


AFFINE = np.diag([2.0, 2.0, 5.0, 1.0])


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(5)
    mdme, flair = simulate(rng, {"CSF": 1.0}, 4 * 4 * 3)
    wm_mdme, wm_flair = simulate(rng, {"WM": 1.0}, 4 * 4 * 3)
    mdme[::2], flair[::2] = wm_mdme[::2], wm_flair[::2]
    paths = {"mdme": tmp_path / "m.nii.gz", "flair": tmp_path / "f.nii.gz"}
    nib.save(nib.Nifti1Image(mdme.reshape(4, 4, 3, 8).astype(np.float32), AFFINE), paths["mdme"])
    nib.save(nib.Nifti1Image(flair.reshape(4, 4, 3), AFFINE), paths["flair"])
    return paths, flair.reshape(4, 4, 3), np.arange(48).reshape(4, 4, 3) % 2 == 1


def test_cli_writes_target_and_mask(files, tmp_path):
    paths, flair, csf = files
    out, mask_out = tmp_path / "t.nii.gz", tmp_path / "mask.nii.gz"
    argv = ["preprocess", "--flair", str(paths["flair"]), "--mdme", str(paths["mdme"]),
            "--out", str(out), "--mask-out", str(mask_out)]  # fmt: skip
    assert main(argv) == 0
    target = nib.load(out)
    mask = np.asarray(nib.load(mask_out).dataobj)
    assert nib.load(mask_out).get_data_dtype() == np.uint8
    np.testing.assert_allclose(target.affine, AFFINE)
    assert np.array_equal(mask.astype(bool), csf)
    np.testing.assert_allclose(target.get_fdata()[~csf], flair[~csf], rtol=1e-6)
    assert np.all(target.get_fdata()[csf] == 0)
    # options reach the rule: with an impossible IR threshold nothing is suppressed
    assert main([*argv[:-2], "--ir-threshold", "5", "--ir-index", "5", "7"]) == 0
    np.testing.assert_allclose(nib.load(out).get_fdata(), flair, rtol=1e-6)


def test_cli_errors(files, tmp_path, capsys):
    paths, _, _ = files
    other = tmp_path / "other.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((4, 4, 3), np.float32), np.diag([1.0, 2, 5, 1])), other)
    base = ["preprocess", "--mdme", str(paths["mdme"]), "--out", str(tmp_path / "x.nii.gz")]
    assert main([*base, "--flair", str(other)]) == 2
    assert "different affines" in capsys.readouterr().err
    assert main([*base, "--flair", str(paths["flair"]), "--t2-index", "9", "7"]) == 2
    assert "reads image 9 but the file has 8 volumes" in capsys.readouterr().err
    assert main([*base, "--flair", str(paths["flair"]), "--ir-index", "3", "3"]) == 2
    assert "ir_index" in capsys.readouterr().err
    assert not (tmp_path / "x.nii.gz").exists()


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml", "ci.yaml"])
def test_config_thresholds_are_the_one_default(name):
    """The configs write the paper's thresholds; the value is defined once in synflair."""
    from pathlib import Path

    import yaml

    from synflair.preprocess import IR_THRESHOLD, T2_THRESHOLD

    config = yaml.safe_load((Path(__file__).parents[1] / "config" / name).read_text())
    assert (IR_THRESHOLD, T2_THRESHOLD) == (0.3, 0.7)  # the paper's "> 0.3", "> 0.7"
    assert config["preprocess"]["ir_threshold"] == IR_THRESHOLD
    assert config["preprocess"]["t2_threshold"] == T2_THRESHOLD
    assert CSFSuppression().ir_threshold == IR_THRESHOLD
