"""The compare guardrails' statistics against scipy's own results and published examples."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from migrations_app.monitoring import stats


def _pairwise(new, old):
    return np.sort((np.asarray(new)[:, None] - np.asarray(old)[None, :]).ravel())


def test_it_finds_the_same_order_statistics_of_pairwise_differences_as_sorting_them_all():
    rng = np.random.default_rng(7)
    new, old = rng.lognormal(5, 0.4, 53), rng.lognormal(5.1, 0.4, 47)
    every = _pairwise(new, old)
    ranks = [1, 2, 100, 1245, len(every)]
    found = stats.pairwise_order_statistics(new, old, ranks)
    assert found == pytest.approx(every[np.array(ranks) - 1].tolist(), rel=1e-9)


def test_its_hodges_lehmann_shift_is_the_median_of_pairwise_differences_with_scipys_p_value():
    rng = np.random.default_rng(11)
    new, old = rng.normal(130, 20, 40), rng.normal(100, 20, 45)
    shift = stats.hodges_lehmann(new, old, confidence=0.95)
    every = _pairwise(new, old)
    assert shift.estimate == pytest.approx(float(np.median(every)), rel=1e-9)
    assert shift.p_value == pytest.approx(scipy_stats.mannwhitneyu(new, old, alternative="two-sided").pvalue)
    # The bounds are the C-th smallest and largest differences, C from scipy's normal quantile.
    m, n = len(new), len(old)
    c = int(np.floor(m * n / 2 - scipy_stats.norm.ppf(0.975) * np.sqrt(m * n * (m + n + 1) / 12)))
    assert (shift.low, shift.high) == pytest.approx((every[c - 1], every[m * n - c]), rel=1e-9)
    assert shift.low < 30 < shift.high  # the true shift is inside


def test_its_interval_covers_the_true_shift_about_as_often_as_it_promises():
    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(200):
        shift = stats.hodges_lehmann(rng.normal(5, 1, 30), rng.normal(0, 1, 30), confidence=0.9)
        covered += shift.low <= 5 <= shift.high
    assert 0.84 <= covered / 200 <= 0.96


def test_too_small_samples_have_no_interval():
    shift = stats.hodges_lehmann([1.0, 2.0], [1.5, 2.5], confidence=0.95)
    assert shift.low is None and shift.high is None


def test_the_proportion_interval_matches_newcombes_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80, method 10.
    result = stats.proportion_difference(56, 70, 48, 80, confidence=0.95)
    assert result.difference == pytest.approx(0.2)
    assert (result.low, result.high) == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_the_proportion_p_value_is_scipys_chi_square_and_fisher_for_small_counts():
    large = stats.proportion_difference(960, 1000, 990, 1000, confidence=0.95)
    table = [[960, 40], [990, 10]]
    assert large.test == "chi-square"
    assert large.p_value == pytest.approx(scipy_stats.chi2_contingency(table, correction=False).pvalue)
    small = stats.proportion_difference(9, 10, 3, 10, confidence=0.95)
    assert small.test == "Fisher exact"
    assert small.p_value == pytest.approx(scipy_stats.fisher_exact([[9, 1], [3, 7]]).pvalue)


def test_identical_all_success_paths_have_no_difference():
    result = stats.proportion_difference(100, 100, 200, 200, confidence=0.95)
    assert result.difference == 0 and result.p_value == 1.0
    assert result.low < 0 < result.high
