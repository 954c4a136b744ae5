import numpy as np
import pytest
from quantify_sim import SIGMA, TISSUES, mixture, simulate

from synflair.errors import SynflairError
from synflair.physics import MDME_PAPER, MDMEProtocol
from synflair.quantify.model import FitSettings, MDMEModel
from synflair.quantify.precision import cramer_rao_std

WATER = FitSettings(pd_reference=1.0, background=0.0)


def random_tissues(rng, n):
    t1 = np.exp(rng.uniform(np.log(300), np.log(5000), n))
    t2 = np.exp(rng.uniform(np.log(30), np.log(2000), n))
    pd = rng.uniform(0.5, 1.0, n)
    b1 = rng.uniform(0.75, 1.25, n)
    return t1, t2, pd, b1


@pytest.mark.parametrize("component", ["magnitude", "real"])
def test_noise_free_round_trip_is_exact(component):
    t1, t2, pd, b1 = random_tissues(np.random.default_rng(0), 5000)
    signal = MDME_PAPER.signal(t1, t2, pd, b1)
    data = np.abs(signal) if component == "magnitude" else signal
    fit = MDMEModel(MDME_PAPER, component=component, settings=WATER).fit(data)
    assert fit.valid.all()
    np.testing.assert_allclose(fit.t1, t1, rtol=1e-4)
    np.testing.assert_allclose(fit.t2, t2, rtol=1e-4)
    np.testing.assert_allclose(fit.b1, b1, rtol=1e-4)
    np.testing.assert_allclose(fit.pd, 100 * pd, rtol=1e-4)
    np.testing.assert_allclose(fit.predict(), data, atol=1e-5)
    np.testing.assert_allclose(fit.predict("real"), signal, atol=1e-5)


def test_noisy_pure_tissues_reach_the_cramer_rao_bound():
    rng = np.random.default_rng(1)
    model = MDMEModel(MDME_PAPER, settings=WATER)
    for name in ("WM", "GM"):
        t1, t2, pd = TISSUES[name]
        fit = model.fit(np.abs(simulate(rng, np.full(20000, t1), t2, pd, b1=1.1)))
        bound = cramer_rao_std(MDME_PAPER, t1, t2, pd, 1.1, SIGMA)
        for key, truth in (("t1", t1), ("t2", t2)):
            values = getattr(fit, key)
            assert abs(np.median(values) / truth - 1) < 0.01  # unbiased
            assert np.std(values) < 1.25 * bound[key]  # efficient
            assert np.std(values) > 0.8 * bound[key]  # (the bound is a bound)
        assert np.median(np.abs(fit.b1 - 1.1)) < 0.03


def test_b1_is_recovered_across_its_range():
    rng = np.random.default_rng(2)
    b1 = np.linspace(0.7, 1.3, 4000)
    t1, t2, pd = TISSUES["GM"]
    fit = MDMEModel(MDME_PAPER, settings=WATER).fit(np.abs(simulate(rng, t1, t2, pd, b1)))
    error = fit.b1 - b1
    assert np.median(np.abs(error)) < 0.03
    for part in np.array_split(np.arange(b1.size), 4):  # no drift across the range
        assert abs(np.median(error[part])) < 0.01


def test_magnitude_and_real_inputs_agree():
    rng = np.random.default_rng(3)
    t1, t2, pd, b1 = random_tissues(rng, 3000)
    noisy = simulate(rng, t1, t2, pd, b1, sigma=0.002)
    mag = MDMEModel(MDME_PAPER, settings=WATER).fit(np.abs(noisy))
    real = MDMEModel(MDME_PAPER, component="real", settings=WATER).fit(noisy.real)
    for key in ("t1", "t2", "b1", "pd"):
        assert np.median(np.abs(getattr(mag, key) / getattr(real, key) - 1)) < 0.01
    # the magnitude fit restored the signs of the short-delay images
    assert np.mean(np.sign(mag.predict("real")) == np.sign(noisy.real)) > 0.98


def test_magnitude_data_fitted_as_real_fail_the_short_delays():
    t1, t2, pd = TISSUES["CSF"]
    data = np.abs(MDME_PAPER.signal(np.full(10, t1), t2, pd))
    wrong = MDMEModel(MDME_PAPER, component="real", settings=WATER).fit(data)
    assert not np.allclose(wrong.t1[wrong.valid], t1, rtol=0.05)


def test_partial_volume_gives_an_intermediate_single_compartment_fit():
    rng = np.random.default_rng(4)
    f = np.linspace(0, 1, 11)
    data = np.abs(mixture(rng, {"GM": 1 - f, "CSF": f}, sigma=0.0))
    fit = MDMEModel(MDME_PAPER, settings=WATER).fit(data)
    assert fit.valid.all()
    assert np.all(np.diff(fit.t1) > 0)  # T1 rises monotonically from GM to CSF
    assert fit.t1[0] == pytest.approx(TISSUES["GM"][0], rel=1e-4)
    assert fit.t1[-1] == pytest.approx(TISSUES["CSF"][0], rel=1e-4)


def test_background_threshold():
    t1, t2, pd = TISSUES["WM"]
    data = np.abs(MDME_PAPER.signal(np.full(10, t1), t2, pd))
    data[:3] *= 0.05  # 5 % of the tissue signal: below the default 8 % threshold
    model = MDMEModel(MDME_PAPER, settings=FitSettings(pd_reference=1.0))
    assert np.array_equal(model.fit_mask(data), np.arange(10) >= 3)
    assert MDMEModel(MDME_PAPER, settings=WATER).fit(data).valid.all()


def test_limits_zero_background_and_bounds():
    rng = np.random.default_rng(5)
    t1, t2, pd = TISSUES["WM"]
    signals = np.abs(simulate(rng, np.full((6, 5), t1), t2, pd))
    signals[0, 0] = 0.0  # all-zero voxel
    signals[1, 1] = np.abs(SIGMA * (rng.standard_normal(8) + 1j * rng.standard_normal(8)))
    # no decay at all between the echoes: T2 at the upper bound
    signals[2, 2] = np.abs(MDME_PAPER.signal(t1, 1e9, pd))
    fit = MDMEModel(MDME_PAPER, settings=FitSettings(pd_reference=1.0)).fit(signals)
    maps = (fit.t1, fit.t2, fit.pd, fit.b1, fit.m0, fit.r1, fit.r2)
    assert all(np.all(np.isfinite(m)) for m in maps)
    assert not fit.valid[0, 0] and not fit.valid[1, 1]
    assert all(m[0, 0] == 0 and m[1, 1] == 0 for m in maps)
    assert fit.t2[2, 2] == pytest.approx(WATER.t2_bounds[1])
    assert fit.valid.sum() == 28
    assert np.all(fit.predict()[~fit.valid] == 0)


def test_mask_restricts_the_fit():
    t1, t2, pd = TISSUES["GM"]
    data = np.abs(MDME_PAPER.signal(np.full((4, 4), t1), t2, pd))
    mask = np.zeros((4, 4), dtype=bool)
    mask[1:3, 1:3] = True
    fit = MDMEModel(MDME_PAPER, settings=WATER).fit(data, mask=mask)
    assert np.array_equal(fit.valid, mask)
    assert np.all(fit.t1[~mask] == 0)
    with pytest.raises(SynflairError, match="mask has shape"):
        MDMEModel(MDME_PAPER).fit(data, mask=mask[:2])


def test_unsorted_delays_and_echoes_are_handled():
    protocol = MDMEProtocol(te=(84.5, 16.9), td=(3879.0, 146.0, 1879.0, 546.0))
    t1, t2, pd, b1 = random_tissues(np.random.default_rng(6), 500)
    fit = MDMEModel(protocol, settings=WATER).fit(np.abs(protocol.signal(t1, t2, pd, b1)))
    np.testing.assert_allclose(fit.t1, t1, rtol=1e-4)
    np.testing.assert_allclose(fit.t2, t2, rtol=1e-4)


def test_pd_is_normalized_to_csf():
    rng = np.random.default_rng(7)
    gain = 250.0  # arbitrary scanner units
    kinds = np.array(["CSF"] * 100 + ["WM"] * 200)
    t1, t2, pd = (np.array([TISSUES[k][i] for k in kinds]) for i in range(3))
    fit = MDMEModel(MDME_PAPER).fit(gain * np.abs(simulate(rng, t1, t2, pd, sigma=0.002)))
    assert fit.pd_reference == pytest.approx(gain, rel=0.01)
    assert np.median(fit.pd[kinds == "CSF"]) == pytest.approx(100, rel=0.01)
    assert np.median(fit.pd[kinds == "WM"]) == pytest.approx(68, rel=0.02)


def test_interior_csf_is_the_reference_in_3d():
    # CSF voxels at the edge share the voxel with bone (half the signal); interior ones do not.
    f = np.zeros((12, 12, 2))
    f[2:10, 2:10] = 0.5
    f[3:9, 3:9] = 1.0
    data = np.abs(mixture(np.random.default_rng(8), {"CSF": f}, sigma=0.0))
    fit = MDMEModel(MDME_PAPER, settings=FitSettings(min_csf_voxels=10)).fit(data)
    assert fit.pd_reference == pytest.approx(1.0, rel=1e-3)


def test_pd_reference_needs_csf():
    t1, t2, pd = TISSUES["WM"]
    data = np.abs(MDME_PAPER.signal(np.full(50, t1), t2, pd))
    with pytest.raises(SynflairError, match="cannot normalize PD to CSF: 0 fitted voxels"):
        MDMEModel(MDME_PAPER).fit(data)


def test_threads_and_chunks_give_identical_maps():
    rng = np.random.default_rng(9)
    t1, t2, pd, b1 = random_tissues(rng, 20000)
    data = np.abs(simulate(rng, t1, t2, pd, b1))
    one = MDMEModel(MDME_PAPER, settings=FitSettings(pd_reference=1.0, n_threads=1)).fit(data)
    many = MDMEModel(
        MDME_PAPER, settings=FitSettings(pd_reference=1.0, n_threads=3, chunk_size=1000)
    ).fit(data)
    for key in ("t1", "t2", "pd", "b1", "valid"):
        np.testing.assert_array_equal(getattr(one, key), getattr(many, key))


def test_bad_input():
    model = MDMEModel(MDME_PAPER)
    data = np.ones((3, 8))
    data[1, 2] = np.nan
    with pytest.raises(SynflairError, match="1 non-finite"):
        model.fit(data)
    with pytest.raises(SynflairError, match=r"expected \(\.\.\., 8\)"):
        model.fit(np.ones((3, 7)))
    with pytest.raises(SynflairError, match="real numbers"):
        model.fit(np.ones((3, 8), dtype=complex))
    with pytest.raises(ValueError, match="component must be"):
        MDMEModel(MDME_PAPER, component="phase")
    with pytest.raises(ValueError, match="exactly 2 echo times"):
        MDMEModel(MDMEProtocol(te=(10.0, 50.0, 90.0)))
    with pytest.raises(ValueError, match="at least 3 saturation delays"):
        MDMEModel(MDMEProtocol(td=(500.0, 2000.0)))
    with pytest.raises(TypeError, match="MDMEProtocol"):
        MDMEModel("paper")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("t1_bounds", (100.0, 50.0)),
        ("t2_bounds", (0.0, 10.0)),
        ("background", 1.0),
        ("pd_reference", "water"),
        ("pd_reference", -1.0),
        ("grid_size", 2),
        ("chunk_size", 0),
        ("n_threads", 0),
    ],
)
def test_settings_are_validated(field, value):
    with pytest.raises(ValueError, match=field):
        FitSettings(**{field: value})


def test_cramer_rao_bound_scales_with_noise():
    t1, t2, pd = TISSUES["WM"]
    a = cramer_rao_std(MDME_PAPER, t1, t2, pd, sigma=0.01)
    b = cramer_rao_std(MDME_PAPER, t1, t2, pd, sigma=0.02)
    assert b["t1"] == pytest.approx(2 * a["t1"])
    known = cramer_rao_std(MDME_PAPER, t1, t2, pd, sigma=0.01, b1_known=True)
    assert known["t1"] < a["t1"] and "b1" not in known
    with pytest.raises(ValueError):
        cramer_rao_std(MDME_PAPER, -1, t2, pd)


def test_all_zero_exam():
    zeros = np.zeros((4, 4, 2, 8))
    fit = MDMEModel(MDME_PAPER, settings=FitSettings(pd_reference=1.0)).fit(zeros)
    assert not fit.valid.any()
    assert all(np.all(m == 0) for m in (fit.t1, fit.t2, fit.pd, fit.b1))
    with pytest.raises(SynflairError, match="cannot normalize PD"):
        MDMEModel(MDME_PAPER).fit(zeros)
