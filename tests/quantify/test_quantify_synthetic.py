import numpy as np
import pytest
from quantify_sim import TISSUES
from scipy.optimize import brentq

from synflair.physics import (
    SYNTHETIC_FLAIR,
    InversionRecoveryProtocol,
    SpinEchoProtocol,
    flair_null_ti,
    ir_signal,
    se_signal,
)
from synflair.quantify.synthetic import synthesize, synthetic_flair, synthetic_t1w

NAMES = ("WM", "GM", "CSF", "lesion")
T1, T2, PD = (np.array([TISSUES[n][i] for n in NAMES]) for i in range(3))
PD_PERCENT = 100 * PD


def test_flair_is_the_inversion_recovery_equation_in_percent_of_water():
    flair = synthetic_flair(T1, T2, PD_PERCENT)
    expected = ir_signal(T1, T2, PD_PERCENT, tr=15000.0, te=100.0, ti=3000.0)
    np.testing.assert_allclose(flair, expected, rtol=1e-6)
    assert flair.dtype == np.float32
    # pure water can at most reach 100 %, and FLAIR contrast: CSF dark, lesion > GM > WM
    assert flair.max() < 100
    wm, gm, csf, lesion = flair
    assert csf < 0.5 * wm < wm < gm < lesion


def test_t1w_is_the_spin_echo_equation_and_has_t1_contrast():
    t1w = synthetic_t1w(T1, T2, PD_PERCENT)
    np.testing.assert_allclose(t1w, se_signal(T1, T2, PD_PERCENT, tr=500.0, te=10.0), rtol=1e-6)
    wm, gm, csf, _ = t1w
    assert wm > gm > csf


def test_protocols_are_configurable():
    other = InversionRecoveryProtocol(tr=9000.0, te=124.0, ti=2472.0)
    a = synthetic_flair(T1, T2, PD_PERCENT, protocol=other)
    np.testing.assert_allclose(
        a, ir_signal(T1, T2, PD_PERCENT, tr=9000, te=124, ti=2472), rtol=1e-6
    )
    assert not np.allclose(a, synthetic_flair(T1, T2, PD_PERCENT))
    b = synthetic_t1w(T1, T2, PD_PERCENT, protocol=SpinEchoProtocol(tr=600.0, te=15.0))
    np.testing.assert_allclose(b, se_signal(T1, T2, PD_PERCENT, tr=600, te=15), rtol=1e-6)


def test_flair_nulls_the_tissue_whose_null_ti_is_the_protocols():
    t1 = brentq(lambda t: flair_null_ti(t, 15000.0) - 3000.0, 1000.0, 10000.0)
    flair = synthetic_flair(np.array([t1, 0.9 * t1]), np.array([2000.0] * 2), np.array([100.0] * 2))
    assert flair[0] < 1e-4 < 1.0 < flair[1]


def test_invalid_voxels_are_zero_without_nan():
    t1 = np.array([832.0, 0.0, 1331.0])
    t2 = np.array([80.0, 0.0, 100.0])
    pd = np.array([68.0, 0.0, 79.0])
    flair = synthetic_flair(t1, t2, pd)
    assert flair[1] == 0 and np.all(np.isfinite(flair)) and flair[0] > 0
    masked = synthesize(SYNTHETIC_FLAIR, t1, t2, pd, valid=np.array([True, False, False]))
    assert masked[2] == 0 and masked[0] == flair[0]


def test_bad_arguments():
    with pytest.raises(TypeError, match="InversionRecoveryProtocol"):
        synthetic_flair(T1, T2, PD_PERCENT, protocol=SpinEchoProtocol(tr=500.0, te=10.0))
    with pytest.raises(ValueError, match=r"protocol\.ti"):
        synthetic_flair(
            T1, T2, PD_PERCENT, protocol=InversionRecoveryProtocol(15000.0, 100.0, -1.0)
        )
    with pytest.raises(ValueError, match="one shape"):
        synthetic_t1w(T1, T2[:2], PD_PERCENT)
    with pytest.raises(ValueError, match="valid must have shape"):
        synthesize(SYNTHETIC_FLAIR, T1, T2, PD_PERCENT, valid=np.ones(2, dtype=bool))
