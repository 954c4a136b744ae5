import itertools

import numpy as np
import pytest
from scipy import stats

from synflair.errors import SynflairError
from synflair.stats import wilcoxon_signed_rank
from synflair.stats.wilcoxon import exact_p_value, signed_rank_distribution

# R's ?wilcox.test paired example: depression scores before (x) and after (y) the first
# tranquilizer therapy (Hollander & Wolfe 1973, p. 29). R: V = 40, p-value = 0.03906.
HW_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
HW_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]

# R's `sleep` data (Student 1908), paired by ID: one zero difference and a tie (-1.3, -1.3).
# R: wilcox.test(extra ~ group, data = sleep, paired = TRUE) -> V = 0, p-value = 0.009091
# ("with continuity correction", warnings about ties and zeros).
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]

# Wikipedia's signed-rank example (ties and a zero), as run in R on stats.stackexchange
# question 229760: wilcox.test(before, after, paired = TRUE, correct = FALSE) -> V = 18,
# p-value = 0.5936.
AFTER = [125, 115, 130, 140, 140, 115, 140, 125, 140, 135]
BEFORE = [110, 122, 125, 120, 140, 124, 123, 137, 135, 145]


def test_r_help_page_paired_example_exact():
    res = wilcoxon_signed_rank(HW_X, HW_Y)
    assert res.statistic == 40.0
    assert res.method == "exact"
    assert res.p_value == pytest.approx(0.03906, abs=5e-6)
    assert res.p_value == 20 / 512  # 2 * P(V >= 40) = 2 * 10 / 2^9
    assert res.n == res.n_nonzero == 9
    assert res.reason == ""


def test_swapping_x_and_y_mirrors_statistic_keeps_p():
    a = wilcoxon_signed_rank(HW_X, HW_Y)
    b = wilcoxon_signed_rank(HW_Y, HW_X)
    assert b.statistic == 45 - a.statistic == 5.0
    assert b.p_value == a.p_value
    assert b.rank_biserial == pytest.approx(-a.rank_biserial)
    assert b.z == pytest.approx(-a.z)


def test_r_sleep_example_with_ties_and_zero_uses_corrected_normal_approximation():
    res = wilcoxon_signed_rank(SLEEP_1, SLEEP_2)
    assert res.statistic == 0.0
    assert res.p_value == pytest.approx(0.009091, abs=5e-7)
    assert "normal approximation" in res.method
    assert "tie correction" in res.method and "continuity correction" in res.method
    assert res.n == 10 and res.n_nonzero == 9
    assert "1 zero difference" in res.reason
    # Hand computation: mean 22.5, variance 9*10*19/24 - (2^3 - 2)/48 = 71.125.
    z = (0 - 22.5 + 0.5) / np.sqrt(71.125)
    assert res.p_value == pytest.approx(2 * stats.norm.cdf(z), rel=1e-12)
    assert res.rank_biserial == -1.0


def test_ties_and_zero_without_continuity_correction_matches_r():
    res = wilcoxon_signed_rank(BEFORE, AFTER, correction=False)
    assert res.statistic == 18.0
    assert res.p_value == pytest.approx(0.5936, abs=5e-5)
    assert res.method == "normal approximation, tie correction"


def test_n10_smallest_exact_p_is_2_over_1024():
    x = np.arange(10.0) + np.linspace(1.0, 2.0, 10)  # every difference positive, untied
    res = wilcoxon_signed_rank(x, np.arange(10.0))
    assert res.method == "exact"
    assert res.statistic == 55.0
    assert res.p_value == 2 / 1024
    assert res.rank_biserial == 1.0


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_distribution_matches_enumeration_of_all_sign_patterns(n):
    counts = signed_rank_distribution(n)
    assert counts.sum() == 2**n
    brute = np.zeros_like(counts)
    for signs in itertools.product((0, 1), repeat=n):
        brute[sum(r for r, s in zip(range(1, n + 1), signs, strict=True) if s)] += 1
    np.testing.assert_array_equal(counts, brute)


@pytest.mark.parametrize("seed", range(5))
def test_exact_p_agrees_with_scipy_exact(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.3, 1.0, 12)
    y = rng.normal(0.0, 1.0, 12)
    res = wilcoxon_signed_rank(x, y)
    ref = stats.wilcoxon(x, y, method="exact")
    assert res.method == "exact"
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert min(res.statistic, 78 - res.statistic) == ref.statistic


def test_large_n_uses_normal_approximation_and_matches_scipy():
    rng = np.random.default_rng(7)
    x = rng.normal(0.2, 1.0, 40)
    y = rng.normal(0.0, 1.0, 40)
    res = wilcoxon_signed_rank(x, y)
    ref = stats.wilcoxon(x, y, method="approx", correction=True)
    assert res.method == "normal approximation, continuity correction"
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert res.r == pytest.approx(res.z / np.sqrt(40))


def test_exact_p_value_is_symmetric_and_capped_at_one():
    assert exact_p_value(0, 5) == exact_p_value(15, 5) == 2 / 32
    assert exact_p_value(7.5, 5) == 1.0  # the centre of the distribution


def test_fewer_than_two_pairs_is_nan_with_reason():
    res = wilcoxon_signed_rank([1.0], [2.0])
    assert np.isnan(res.p_value) and np.isnan(res.statistic)
    assert res.method == "not computed"
    assert "fewer than 2 pairs" in res.reason


def test_all_zero_differences_is_nan_with_reason():
    res = wilcoxon_signed_rank([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert np.isnan(res.p_value)
    assert "all differences are zero" in res.reason


def test_nan_propagates_with_reason_or_is_omitted():
    x = [*HW_X, np.nan]
    y = [*HW_Y, 1.0]
    res = wilcoxon_signed_rank(x, y)
    assert np.isnan(res.p_value)
    assert "index [9]" in res.reason
    omitted = wilcoxon_signed_rank(x, y, nan_policy="omit")
    assert omitted.p_value == wilcoxon_signed_rank(HW_X, HW_Y).p_value
    assert omitted.n == 9
    assert "1 pair(s) with NaN dropped" in omitted.reason


def test_forced_exact_with_ties_is_an_error_naming_the_problem():
    with pytest.raises(SynflairError, match="ties and zeros"):
        wilcoxon_signed_rank(SLEEP_1, SLEEP_2, method="exact")


def test_forced_normal_on_untied_data():
    res = wilcoxon_signed_rank(HW_X, HW_Y, method="normal", correction=False)
    assert res.method == "normal approximation"
    assert res.p_value == pytest.approx(2 * stats.norm.sf(abs(res.z)))


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "match"),
    [
        ([1, 2, 3], [1, 2], {}, "equal length"),
        ([[1, 2]], [[1, 2]], {}, "1D"),
        ([1, 2], [2, 3], {"method": "bootstrap"}, "method must be"),
        ([1, 2], [2, 3], {"nan_policy": "raise"}, "nan_policy must be"),
        ([1, 2], [2, 3], {"exact_max_n": 100}, "exact_max_n"),
    ],
)
def test_bad_arguments(x, y, kwargs, match):
    with pytest.raises(SynflairError, match=match):
        wilcoxon_signed_rank(x, y, **kwargs)
