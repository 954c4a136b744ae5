import numpy as np
import pytest

from synflair import physics
from synflair.physics import (
    CONVENTIONAL_FLAIR,
    MDME_PAPER,
    SYNTHETIC_FLAIR,
    flair_null_ti,
    ir_signal,
    mdme_signal,
    se_signal,
)

WM = (830.0, 75.0, 0.67)
GM = (1330.0, 100.0, 0.79)
CSF = (4000.0, 1500.0, 1.0)


def test_mdme_fully_relaxed_limit():
    # TD and TR -> infinity: full recovery, only T2 decay remains.
    t1, t2, pd = WM
    s = mdme_signal(t1, t2, pd, te=16.9, td=1e9, tr=2e9)
    assert s == pytest.approx(pd * np.exp(-16.9 / t2), rel=1e-9)


def test_mdme_td_to_infinity_at_finite_tr_with_90_degree_excitation():
    # cos(alpha) = 0: the denominator is 1, numerator 1 - cos(theta) e^{-TR/T1}.
    t1, t2, pd = GM
    s = mdme_signal(t1, t2, pd, te=0.0, td=1e9)
    assert s == pytest.approx(pd * (1 + 0.5 * np.exp(-4000 / t1)), rel=1e-9)


def test_mdme_is_negative_at_short_delay_and_positive_at_long():
    t1, t2, pd = CSF
    assert mdme_signal(t1, t2, pd, te=16.9, td=146.0) < 0
    assert mdme_signal(t1, t2, pd, te=16.9, td=3879.0) > 0
    # WM recovers quickly enough to be positive at TD 546 but not at 146.
    assert mdme_signal(*WM, te=16.9, td=146.0) < 0 < mdme_signal(*WM, te=16.9, td=546.0)


def test_mdme_b1_equals_one_is_the_nominal_angles():
    args = (np.array([800.0, 1300.0]), np.array([70.0, 100.0]), np.array([0.7, 0.8]), 16.9, 546.0)
    a = mdme_signal(*args, b1=1.0)
    b = mdme_signal(*args, sat_angle=120.0, exc_angle=90.0)
    np.testing.assert_array_equal(a, b)
    # B1 scales the angles: b1 = 0.5 with doubled nominal angles is the same signal.
    c = mdme_signal(*args, b1=0.5, sat_angle=240.0, exc_angle=180.0)
    np.testing.assert_allclose(a, c, rtol=1e-12)


def test_mdme_pure_saturation_at_td_zero():
    # theta = 90, TD = 0: no longitudinal magnetisation, no signal.
    s = mdme_signal(1000.0, 80.0, 1.0, te=10.0, td=0.0, sat_angle=90.0)
    assert s == pytest.approx(0.0, abs=1e-12)


def test_mdme_broadcasting_shapes():
    t1 = np.full((4, 5, 1), 900.0)
    te = np.array([16.9, 84.5])
    s = mdme_signal(t1, 80.0, 1.0, te=te, td=546.0)
    assert s.shape == (4, 5, 2)
    vols = MDME_PAPER.signal(np.full((3, 2), 900.0), 80.0, 0.7, b1=np.ones((3, 1)))
    assert vols.shape == (3, 2, 8)


def test_mdme_protocol_is_delay_major():
    np.testing.assert_array_equal(MDME_PAPER.volume_te, [16.9, 84.5] * 4)
    np.testing.assert_array_equal(MDME_PAPER.volume_td, np.repeat([146, 546, 1879, 3879], 2))
    s = MDME_PAPER.signal(*WM)
    for k in range(8):
        assert s[k] == pytest.approx(
            mdme_signal(*WM, te=MDME_PAPER.volume_te[k], td=MDME_PAPER.volume_td[k])
        )


def test_flair_null():
    for t1, tr in [(4000.0, 9000.0), (4000.0, 15000.0), (830.0, 2000.0)]:
        ti = flair_null_ti(t1, tr)
        assert ir_signal(t1, 100.0, 1.0, tr=tr, te=100.0, ti=ti) == pytest.approx(0.0, abs=1e-12)
        assert ir_signal(t1, 100.0, 1.0, tr=tr, te=100.0, ti=ti + 200) > 0
    # The conventional FLAIR (TI 2472, TR 9000) nulls T1 ~ 4.28 s (CSF at 3T).
    t1s = np.linspace(2000, 6000, 4001)
    null = t1s[np.argmin(CONVENTIONAL_FLAIR.signal(t1s, 1000.0, 1.0))]
    assert 4200 < null < 4350


def test_flair_contrast_order():
    # FLAIR: lesion-like and GM bright, WM darker, CSF suppressed.
    gm, wm, csf = (SYNTHETIC_FLAIR.signal(*t) for t in (GM, WM, CSF))
    assert gm > wm > csf


def test_ir_nonnegative_and_se_limits():
    t1 = np.linspace(100, 5000, 50)
    assert np.all(ir_signal(t1, 80.0, 1.0, tr=9000, te=124, ti=2472) >= 0)
    assert se_signal(800.0, 70.0, 0.7, tr=1e12, te=0.0) == pytest.approx(0.7)
    assert se_signal(800.0, 70.0, 0.7, tr=0.0, te=0.0) == pytest.approx(0.0)


def test_protocol_validation_names_the_field():
    with pytest.raises(ValueError, match="td"):
        physics.MDMEProtocol(td=())
    with pytest.raises(ValueError, match="tr"):
        physics.MDMEProtocol(tr=1000.0)
