"""Two-sample statistics for compare guardrails: the new path's numbers against the old path's.

Tests and quantiles come from scipy.stats; what is written here is only the bookkeeping around
them (which order statistic bounds an interval, how two Wilson intervals combine).

- Distributions (latencies, values): the Mann-Whitney U test (scipy.stats.mannwhitneyu) and the
  Hodges-Lehmann estimate of the shift new - old, the median of all pairwise differences, with
  its distribution-free confidence interval (Lehmann 1963; Hollander & Wolfe, "Nonparametric
  Statistical Methods", section 4.3): the bounds are the C-th smallest and C-th largest pairwise
  difference, C = mn/2 - z * sqrt(mn(m+n+1)/12) from the normal approximation to U's
  distribution (z = scipy.stats.norm.ppf). This is the method of Kayenta's Mann-Whitney
  classifier. The pairwise differences are never materialised: the k-th smallest is found by
  bisection, counting differences below a value with a binary search in the sorted old values.
- Proportions (success and error rates): the difference p_new - p_old with Newcombe's hybrid
  score interval (Newcombe 1998, method 10), built from each proportion's Wilson score interval
  (scipy.stats.binomtest(...).proportion_ci(method="wilson")). Its p-value is Pearson's
  chi-square test of the 2x2 table without continuity correction, the pooled two-proportion
  z-test (scipy.stats.chi2_contingency), or Fisher's exact test (scipy.stats.fisher_exact) when
  an expected cell count is below 5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

# Bisection steps for one order statistic: each halves the bracket, so 60 reach the resolution of
# a float whatever the data's range.
_BISECTION_STEPS = 60


@dataclass(frozen=True)
class Shift:
    """Hodges-Lehmann shift new - old with its interval; low/high None when the samples are too
    small for an interval at this confidence."""

    estimate: float
    low: float | None
    high: float | None
    p_value: float
    n_new: int
    n_old: int


@dataclass(frozen=True)
class ProportionDifference:
    new: float
    old: float
    difference: float
    low: float
    high: float
    p_value: float
    test: str  # "chi-square" or "Fisher exact"


def _count_at_most(new_sorted: np.ndarray, old_sorted: np.ndarray, d: np.ndarray) -> np.ndarray:
    """For each value in d: how many pairs (x in new, y in old) have x - y <= d."""
    # x - y <= d  <=>  y >= x - d; for each x count the old values at or above x - d.
    queries = new_sorted[None, :] - d[:, None]
    below = np.searchsorted(old_sorted, queries.ravel(), side="left").reshape(queries.shape)
    return (len(old_sorted) - below).sum(axis=1)


def pairwise_order_statistics(new: np.ndarray, old: np.ndarray, ranks: list[int]) -> list[float]:
    """The ranks-th smallest (1-based) of the len(new) * len(old) differences x - y."""
    new_sorted, old_sorted = np.sort(np.asarray(new, float)), np.sort(np.asarray(old, float))
    target = np.asarray(ranks, dtype=np.int64)
    low = np.full(len(ranks), new_sorted[0] - old_sorted[-1], dtype=float)
    high = np.full(len(ranks), new_sorted[-1] - old_sorted[0], dtype=float)
    # Invariant: fewer than `rank` differences are <= low (or low is the minimum), and at least
    # `rank` are <= high. The answer is in (low, high]; high converges onto it.
    low = np.nextafter(low, -np.inf)
    for _ in range(_BISECTION_STEPS):
        middle = low + (high - low) / 2
        enough = _count_at_most(new_sorted, old_sorted, middle) >= target
        high = np.where(enough, middle, high)
        low = np.where(enough, low, middle)
        if np.all(high - low <= 1e-12 * np.maximum(1.0, np.abs(high))):
            break
    return [float(value) for value in high]


def hodges_lehmann(new, old, *, confidence: float) -> Shift:
    """Mann-Whitney U test and the Hodges-Lehmann shift of `new` against `old` (confidence in 0..1)."""
    new, old = np.asarray(new, float), np.asarray(old, float)
    m, n = len(new), len(old)
    p_value = float(stats.mannwhitneyu(new, old, alternative="two-sided").pvalue)
    pairs = m * n
    middle = [(pairs + 1) // 2] if pairs % 2 else [pairs // 2, pairs // 2 + 1]
    z = stats.norm.ppf(0.5 + confidence / 2)
    c = math.floor(pairs / 2 - z * math.sqrt(pairs * (m + n + 1) / 12))
    ranks = middle + ([c, pairs + 1 - c] if c >= 1 else [])
    values = pairwise_order_statistics(new, old, ranks)
    estimate = sum(values[: len(middle)]) / len(middle)
    low, high = (values[len(middle)], values[len(middle) + 1]) if c >= 1 else (None, None)
    return Shift(estimate, low, high, p_value, m, n)


def _wilson(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    interval = stats.binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def proportion_difference(
    successes_new: int, trials_new: int, successes_old: int, trials_old: int, *, confidence: float
) -> ProportionDifference:
    """p_new - p_old (as fractions) with Newcombe's interval and a test's p-value; trials > 0."""
    p_new, p_old = successes_new / trials_new, successes_old / trials_old
    low_new, high_new = _wilson(successes_new, trials_new, confidence)
    low_old, high_old = _wilson(successes_old, trials_old, confidence)
    difference = p_new - p_old
    low = difference - math.sqrt((p_new - low_new) ** 2 + (high_old - p_old) ** 2)
    high = difference + math.sqrt((high_new - p_new) ** 2 + (p_old - low_old) ** 2)
    p_value, test = _two_by_two_p_value(successes_new, trials_new, successes_old, trials_old)
    return ProportionDifference(p_new, p_old, difference, low, high, p_value, test)


def _two_by_two_p_value(successes_new: int, trials_new: int, successes_old: int, trials_old: int):
    table = np.array(
        [[successes_new, trials_new - successes_new], [successes_old, trials_old - successes_old]]
    )
    if (table.sum(axis=0) == 0).any():
        return 1.0, "chi-square"  # everyone succeeded (or failed) on both paths: no difference
    result = stats.chi2_contingency(table, correction=False)
    if result.expected_freq.min() < 5:
        return float(stats.fisher_exact(table).pvalue), "Fisher exact"
    return float(result.pvalue), "chi-square"
