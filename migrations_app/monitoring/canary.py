"""Compare guardrails: is the new path worse than the old path, now, on the same clock?

`compare(guardrail, now=...)` reads both cohorts of the guardrail's KPI over the KPI's window
and returns a `Comparison` with a verdict in words and numbers (see stats.py for the tests):

- rates: difference in points (or relative to old, with tolerance_percent) with Newcombe's interval;
- distributions: with tolerance_percent, the Hodges-Lehmann shift of log values, i.e. the typical
  ratio new/old (a +40 % slower path is +40 % whatever the percentile looked at); with
  tolerance_points, the shift in the KPI's unit. `new` and `old` are the KPI's own aggregation
  (p95, mean, ...) of each cohort, so the message reads "new p95 412 ms vs old 298 ms".

The verdict orients everything so that "worse" is positive (the KPI's direction says which way is
worse) and sets the interval against the tolerance: wholly beyond it fails, wholly within it
passes, straddling it (or too few samples) is inconclusive, a cohort without data is no_data."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Q, Sum

from migrations_app.monitoring import guardrails as rules
from migrations_app.monitoring import kpis, stats
from migrations_app.monitoring.cohorts import NEW, OLD
from migrations_app.monitoring.models import (
    Aggregation,
    Direction,
    Guardrail,
    GuardrailVerdict,
    Kpi,
    Outcome,
    Verdict,
)

# The values read per cohort for a distribution test: its cost stays bounded however much traffic
# a window holds (a million samples per cohort cost what 5,000 do), and 5,000 per path already
# resolve a shift of a few percent. A busy window is read as SLICES equal slices of time, the
# latest MAX_VALUES // SLICES values of each, so the sample spans the whole window rather than
# its last seconds. n_new/n_old are the values tested; the message says when a window held more.
MAX_VALUES = 5_000
SLICES = 10
# Verdict rows kept per guardrail (at one evaluation per probe round, about a day at 30 s).
HISTORY_ROWS = 3000
COMPARABLE = {Aggregation.RATE, Aggregation.ERROR_RATE, Aggregation.MEAN, *kpis.PERCENTILES}


@dataclass(frozen=True)
class Comparison:
    verdict: str
    message: str
    new: float | None = None
    old: float | None = None
    n_new: int = 0
    n_old: int = 0
    difference: float | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None
    relative: bool = False
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "message": self.message,
            "new": self.new,
            "old": self.old,
            "n_new": self.n_new,
            "n_old": self.n_old,
            "difference": self.difference,
            "interval": list(self.interval) if self.interval else None,
        }


def compare(guardrail: Guardrail, *, now: dt.datetime) -> Comparison:
    kpi = guardrail.kpi
    if kpis.uses_counts(kpi):
        return _compare_rates(guardrail, kpi, now)
    return _compare_values(guardrail, kpi, now)


# --- rates ------------------------------------------------------------------------------------


def cohort_counts(kpi: Kpi, *, now: dt.datetime, cohort: str) -> tuple[int, int]:
    """(successes, failures) of one cohort over the KPI's window, summed in SQL."""
    rows = kpis.raw_rows(kpi, since=now - dt.timedelta(seconds=kpi.window_seconds), until=now, cohort=cohort)
    if kpi.probe_id:
        totals = rows.aggregate(
            good=Count("id", filter=Q(outcome=Outcome.PASS)), bad=Count("id", filter=Q(outcome=Outcome.FAIL))
        )
    else:
        totals = rows.aggregate(good=Sum("ok"), bad=Sum("failed"))
    return totals["good"] or 0, totals["bad"] or 0


def _compare_rates(guardrail: Guardrail, kpi: Kpi, now: dt.datetime) -> Comparison:
    (good_new, bad_new), (good_old, bad_old) = (cohort_counts(kpi, now=now, cohort=c) for c in (NEW, OLD))
    n_new, n_old = good_new + bad_new, good_old + bad_old
    if early := _too_few(guardrail, n_new, n_old, "requests"):
        return early
    errors = kpi.aggregation == Aggregation.ERROR_RATE
    hits_new, hits_old = (bad_new, bad_old) if errors else (good_new, good_old)
    result = stats.proportion_difference(
        hits_new, n_new, hits_old, n_old, confidence=guardrail.confidence / 100
    )
    new, old = 100 * result.new, 100 * result.old
    difference, low, high = 100 * result.difference, 100 * result.low, 100 * result.high
    relative = guardrail.tolerance_percent is not None
    if relative:
        if old == 0:
            return _inconclusive(guardrail, n_new, n_old, "the old path's rate is 0: no relative change")
        difference, low, high = (100 * value / old for value in (difference, low, high))
    return _judge(
        guardrail, kpi, new, old, n_new, n_old, difference, (low, high), result.p_value, relative, result.test
    )


# --- distributions -------------------------------------------------------------------------------


def cohort_values(kpi: Kpi, *, now: dt.datetime, cohort: str) -> tuple[np.ndarray, bool]:
    """The cohort's values in the window, and whether it held more than were read: up to
    MAX_VALUES // SLICES from each slice of the window (a short backward index scan on
    (migration, metric, cohort, at) per slice: no count over the whole window)."""
    column = kpis.value_field(kpi)
    order = "-checked_at" if kpi.probe_id else "-at"
    per_slice = MAX_VALUES // SLICES
    width = dt.timedelta(seconds=kpi.window_seconds) / SLICES
    parts, sampled = [], False
    for index in range(SLICES):
        until = now - index * width
        rows = kpis.raw_rows(kpi, since=until - width, until=until, cohort=cohort)
        values = list(
            rows.exclude(**{f"{column}__isnull": True})
            .order_by(order)
            .values_list(column, flat=True)[: per_slice + 1]
        )
        sampled = sampled or len(values) > per_slice
        parts.extend(values[:per_slice])
    return np.fromiter(parts, dtype=float), sampled


def _aggregate(kpi: Kpi, values: np.ndarray) -> float:
    if kpi.aggregation == Aggregation.MEAN:
        return float(np.mean(values))
    # numpy's default "linear" method is percentile_cont's interpolation
    return float(np.percentile(values, 100 * kpis.PERCENTILES.get(kpi.aggregation, 0.5)))


def _compare_values(guardrail: Guardrail, kpi: Kpi, now: dt.datetime) -> Comparison:
    (values_new, sampled_new), (values_old, sampled_old) = (
        cohort_values(kpi, now=now, cohort=c) for c in (NEW, OLD)
    )
    n_new, n_old = len(values_new), len(values_old)
    if early := _too_few(guardrail, n_new, n_old, "samples"):
        return early
    new, old = _aggregate(kpi, values_new), _aggregate(kpi, values_old)
    relative = guardrail.tolerance_percent is not None
    confidence = guardrail.confidence / 100
    if relative and values_new.min() > 0 and values_old.min() > 0:
        shift = stats.hodges_lehmann(np.log(values_new), np.log(values_old), confidence=confidence)
        as_percent = lambda value: None if value is None else 100 * math.expm1(value)  # noqa: E731
        difference, low, high = (as_percent(v) for v in (shift.estimate, shift.low, shift.high))
    else:
        shift = stats.hodges_lehmann(values_new, values_old, confidence=confidence)
        difference, low, high = shift.estimate, shift.low, shift.high
        if relative:  # zero or negative values: a shift relative to the old median instead of a ratio
            median = float(np.median(values_old))
            if median == 0:
                return _inconclusive(
                    guardrail, n_new, n_old, "the old path's median is 0: no relative change"
                )
            difference, low, high = (
                None if v is None else 100 * v / abs(median) for v in (difference, low, high)
            )
    interval = None if low is None else (low, high)
    test = "Mann-Whitney" + (", sampled over the window" if sampled_new or sampled_old else "")
    return _judge(guardrail, kpi, new, old, n_new, n_old, difference, interval, shift.p_value, relative, test)


# --- the verdict ------------------------------------------------------------------------------------


def _too_few(guardrail: Guardrail, n_new: int, n_old: int, what: str) -> Comparison | None:
    if n_new == 0 or n_old == 0:
        empty = " and ".join(name for name, n in (("new", n_new), ("old", n_old)) if n == 0)
        return Comparison(
            Verdict.NO_DATA,
            f"No data on the {empty} path in the window (new {n_new}, old {n_old} {what}): no data.",
            n_new=n_new,
            n_old=n_old,
        )
    need = max(guardrail.min_samples, 2)
    if n_new < need or n_old < need:
        return _inconclusive(guardrail, n_new, n_old, f"need {need} {what} on each path")
    return None


def _inconclusive(guardrail: Guardrail, n_new: int, n_old: int, why: str) -> Comparison:
    return Comparison(
        Verdict.INCONCLUSIVE,
        f"new {n_new} vs old {n_old} samples, {why}: inconclusive.",
        n_new=n_new,
        n_old=n_old,
    )


def tolerance(guardrail: Guardrail) -> float:
    if guardrail.tolerance_percent is not None:
        return guardrail.tolerance_percent
    return guardrail.tolerance_points or 0.0


def _judge(
    guardrail, kpi, new, old, n_new, n_old, difference, interval, p_value, relative, test
) -> Comparison:
    worse = 1 if kpi.direction == Direction.LOWER_IS_BETTER else -1  # which sign is worse
    limit = tolerance(guardrail)
    if interval is None:
        verdict = Verdict.INCONCLUSIVE
    else:
        low, high = sorted(worse * bound for bound in interval)
        verdict = Verdict.FAIL if low > limit else Verdict.PASS if high <= limit else Verdict.INCONCLUSIVE
    words = describe(
        kpi, guardrail, new=new, old=old, difference=difference, interval=interval, relative=relative
    )
    if "sampled" in test:  # a busy window: say the numbers are of a sample of it
        words += f" on up to {MAX_VALUES:,} samples per path spread over the window"
    return Comparison(
        verdict,
        f"{words}, tolerance {_signed(worse * limit, relative, kpi)}: {Verdict(verdict).label.lower()}",
        new=new,
        old=old,
        n_new=n_new,
        n_old=n_old,
        difference=difference,
        interval=interval,
        p_value=p_value,
        relative=relative,
        extra={"test": test},
    )


def describe(kpi: Kpi, guardrail: Guardrail, *, new, old, difference, interval, relative) -> str:
    """ "new p95 412 ms vs old 298 ms: +38 % (95 % CI +21 … +55 %)"."""
    label = _LABELS.get(kpi.aggregation, "")
    text = f"new {label}{kpis.format_value(kpi, new)} vs old {kpis.format_value(kpi, old)}: "
    text += _signed(difference, relative, kpi)
    if interval is None:
        return text + " (too few samples for an interval)"
    low, high = interval
    return text + (
        f" ({guardrail.confidence:g} % CI {_signed(low, relative, kpi, unit=False)} … "
        f"{_signed(high, relative, kpi)})"
    )


_LABELS = {"p50": "p50 ", "p95": "p95 ", "p99": "p99 ", "mean": "mean ", "error_rate": "error rate "}


def _signed(value: float, relative: bool, kpi: Kpi, *, unit: bool = True) -> str:
    shown = f"{value:+.0f}" if abs(value) >= 10 else f"{value:+.1f}" if abs(value) >= 0.1 else f"{value:+.2g}"
    shown = shown.replace("-", "−")
    if not unit:
        return shown
    if relative:
        return f"{shown} %"
    if kpis.uses_counts(kpi):
        return f"{shown} points"
    return f"{shown} {kpi.unit}".rstrip()


def level_of(comparison: Comparison) -> str:
    """The state machine's observation: a fail counts towards firing; inconclusive and no data
    break the run (an inconclusive verdict blocks advancing, see gates, but never fires)."""
    return {Verdict.FAIL: rules.CRITICAL, Verdict.PASS: rules.OK}.get(comparison.verdict, rules.NO_SAMPLES)


def with_streak(comparison: Comparison, *, streak: int, consecutive: int) -> str:
    """The message with the run of failing windows: "...: fail, 2 of 3"."""
    if comparison.verdict != Verdict.FAIL:
        return comparison.message
    return f"{comparison.message}, {min(streak, consecutive)} of {consecutive}"


# --- history -----------------------------------------------------------------------------------------


def verdict_of_level(level: str) -> str:
    """The verdict word for a threshold, baseline or no-data evaluation's level."""
    return {rules.OK: Verdict.PASS, rules.WARN: Verdict.PASS, rules.CRITICAL: Verdict.FAIL}.get(
        level, Verdict.NO_DATA
    )


def record_verdict(guardrail: Guardrail, comparison: Comparison, *, now: dt.datetime, message: str) -> None:
    """Store one evaluation's verdict for the history; every few hundred, prune the oldest."""
    row = GuardrailVerdict.objects.create(
        guardrail=guardrail,
        at=now,
        verdict=comparison.verdict,
        new=comparison.new,
        old=comparison.old,
        n_new=comparison.n_new,
        n_old=comparison.n_old,
        difference=comparison.difference,
        low=comparison.interval[0] if comparison.interval else None,
        high=comparison.interval[1] if comparison.interval else None,
        message=message[:300],
    )
    if row.pk % 200 == 0:  # pruning on every insert would double the cost of an evaluation
        keep = GuardrailVerdict.objects.filter(guardrail=guardrail).order_by("-at", "-id")[HISTORY_ROWS:]
        cutoff = keep.values_list("at", flat=True).first()
        if cutoff is not None:
            GuardrailVerdict.objects.filter(guardrail=guardrail, at__lte=cutoff).delete()


def verdict_history(guardrail: Guardrail, *, since: dt.datetime) -> list[GuardrailVerdict]:
    """The guardrail's verdicts since `since`, oldest first (for the control room's chart)."""
    return list(GuardrailVerdict.objects.filter(guardrail=guardrail, at__gte=since).order_by("at", "id"))


def last_verdict(guardrail: Guardrail) -> GuardrailVerdict | None:
    return GuardrailVerdict.objects.filter(guardrail=guardrail).order_by("-at", "-id").first()
