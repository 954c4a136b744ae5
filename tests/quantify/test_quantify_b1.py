import numpy as np
import pytest
from quantify_sim import TISSUES, simulate

from synflair.errors import SynflairError
from synflair.physics import MDME_PAPER
from synflair.quantify.b1 import smooth_b1
from synflair.quantify.model import FitSettings, MDMEModel

SMOOTH = FitSettings(pd_reference=1.0, b1_smoothing_mm=10.0)


def field(shape):
    x, y, z = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    return 1.0 + 0.1 * np.exp(-(x**2 + y**2) / 0.5) + 0.05 * x - 0.03 * z


def test_smooth_b1_recovers_a_smooth_field_from_noisy_estimates():
    rng = np.random.default_rng(0)
    shape = (120, 100, 8)
    truth = field(shape)
    weights = np.zeros(shape, dtype=bool)
    weights[20:100, 15:85] = True
    noisy = truth + 0.05 * rng.standard_normal(shape)
    smooth = smooth_b1(noisy, weights, (2.0, 2.0, 5.0), 20.0)
    assert smooth.shape == shape and smooth.dtype == np.float32
    error = np.abs(smooth - truth)[weights]
    assert np.median(error) < 0.006 and np.median(np.abs(noisy - truth)[weights]) > 0.03
    # outside the weighted region it extrapolates, staying within the field's range
    assert truth.min() - 0.02 < smooth.min() and smooth.max() < truth.max() + 0.02
    # a constant is reproduced exactly, whatever the weights
    constant = smooth_b1(np.full(shape, 1.1), weights, (2.0, 2.0, 5.0), 20.0)
    np.testing.assert_allclose(constant, 1.1, rtol=1e-6)


def test_smooth_b1_bad_arguments():
    b1 = np.ones((4, 4, 2))
    with pytest.raises(ValueError, match="all zero"):
        smooth_b1(b1, np.zeros_like(b1), (1, 1, 1), 10.0)
    with pytest.raises(ValueError, match="fwhm_mm"):
        smooth_b1(b1, b1, (1, 1, 1), 0.0)
    with pytest.raises(ValueError, match="voxel_size"):
        smooth_b1(b1, b1, (1, 1), 10.0)
    with pytest.raises(ValueError, match="3D"):
        smooth_b1(b1[0], b1[0], (1, 1, 1), 10.0)


def test_second_pass_with_known_b1_is_exact_without_noise():
    rng = np.random.default_rng(1)
    shape = (12, 10, 3)
    names = rng.choice(["WM", "GM"], size=shape)
    t1, t2, pd = (np.vectorize(lambda n, i=i: TISSUES[n][i])(names) for i in range(3))
    data = np.abs(MDME_PAPER.signal(t1, t2, pd, 1.1))
    fit = MDMEModel(MDME_PAPER, settings=SMOOTH).fit(data, voxel_size=(2.0, 2.0, 5.0))
    np.testing.assert_allclose(fit.b1, 1.1, rtol=1e-5)
    np.testing.assert_allclose(fit.t1, t1, rtol=1e-4)
    np.testing.assert_allclose(fit.pd, 100 * pd, rtol=1e-4)


def test_smoothing_improves_t1_and_b1_at_paper_noise():
    rng = np.random.default_rng(2)
    shape = (40, 40, 6)
    b1 = field(shape)
    t1, t2, pd = TISSUES["WM"]
    data = np.abs(simulate(rng, np.full(shape, t1), t2, pd, b1))
    free = MDMEModel(MDME_PAPER, settings=FitSettings(pd_reference=1.0)).fit(data)
    smooth = MDMEModel(MDME_PAPER, settings=SMOOTH).fit(data, voxel_size=(2.0, 2.0, 5.0))
    err = {k: np.median(np.abs(f.t1 / t1 - 1)) for k, f in (("free", free), ("smooth", smooth))}
    assert err["smooth"] < 0.75 * err["free"]
    assert err["smooth"] < 0.03
    assert np.median(np.abs(smooth.b1 - b1)) < 0.01 < np.median(np.abs(free.b1 - b1))
    np.testing.assert_array_equal(smooth.t2, free.t2)  # T2 does not depend on B1


def test_smoothing_needs_3d_images_and_voxel_size():
    data = np.ones((5, 5, 2, 8))
    with pytest.raises(SynflairError, match="voxel_size"):
        MDMEModel(MDME_PAPER, settings=SMOOTH).fit(data)
    with pytest.raises(SynflairError, match="3D images"):
        MDMEModel(MDME_PAPER, settings=SMOOTH).fit(data[0], voxel_size=(1, 1, 1))
    with pytest.raises(ValueError, match="b1_smoothing_mm"):
        FitSettings(b1_smoothing_mm=-1)
