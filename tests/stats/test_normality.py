import numpy as np
import pytest
from scipy import stats

from synflair.errors import SynflairError
from synflair.stats import shapiro_wilk


def test_matches_scipy_and_separates_normal_from_skewed():
    rng = np.random.default_rng(0)
    normal = rng.normal(size=40)
    skewed = rng.exponential(size=40) ** 3
    res = shapiro_wilk(normal)
    ref = stats.shapiro(normal)
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.p_value == pytest.approx(ref.pvalue)
    assert res.n == 40 and res.reason == ""
    assert res.p_value > 0.05
    assert shapiro_wilk(skewed).p_value < 0.001


def test_too_few_values_or_constant_values_give_reasons():
    res = shapiro_wilk([1.0, 2.0])
    assert np.isnan(res.p_value) and "fewer than 3" in res.reason
    res = shapiro_wilk([2.0, 2.0, 2.0, 2.0])
    assert np.isnan(res.statistic) and "all values are equal" in res.reason


def test_nan_policy():
    values = [0.1, 0.5, np.nan, 0.3, 0.9, 0.2]
    res = shapiro_wilk(values)
    assert np.isnan(res.p_value) and "index [2]" in res.reason
    res = shapiro_wilk(values, nan_policy="omit")
    assert res.n == 5 and np.isfinite(res.p_value)
    assert res.p_value == pytest.approx(stats.shapiro([0.1, 0.5, 0.3, 0.9, 0.2]).pvalue)
    with pytest.raises(SynflairError, match="nan_policy"):
        shapiro_wilk(values, nan_policy="ignore")
