"""“This rule would have fired N times in the last 24 h”: a guardrail replayed over stored data.

The rule (saved or not) is evaluated at evenly spaced moments of the last day, each over the
KPI's own window ending then, and the observations are fed through the same state machine the
worker uses (guardrails.step). The spacing is at least 5 minutes (15 for compare rules, whose
evaluation reads values) so that a preview costs a few hundred queries at most."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from migrations_app.monitoring import canary, kpis, received
from migrations_app.monitoring import guardrails as rules
from migrations_app.monitoring.cohorts import TrafficHistory
from migrations_app.monitoring.models import Direction, Guardrail, GuardrailKind, ReceivedAlert

SPAN = dt.timedelta(hours=24)
FIRING = {rules.ROLL_BACK, rules.PAUSE, rules.ALERT_BREACH}


@dataclass(frozen=True)
class Preview:
    fired: int
    evaluations: int
    failing: int  # evaluations that counted towards firing
    step: dt.timedelta
    alerts: int | None = None  # an alert rule: the matching alerts that started firing in the span

    @property
    def sentence(self) -> str:
        if self.alerts is not None:
            times = "once" if self.alerts == 1 else f"{self.alerts} times"
            if not self.alerts:
                return "No matching alert was received in the last 24 h: this rule would not have fired."
            return f"A matching alert started firing {times} in the last 24 h: this rule would have fired each time."
        times = "once" if self.fired == 1 else f"{self.fired} times"
        every = f"{self.step.total_seconds() / 60:g} min"
        if not self.evaluations:
            return "No stored data in the last 24 h to replay this rule on."
        return (
            f"This rule would have fired {times} in the last 24 h "
            f"({self.failing} of {self.evaluations} evaluations failing, one every {every})."
        )


def _step(guardrail: Guardrail) -> dt.timedelta:
    floor = 900 if guardrail.kind == GuardrailKind.COMPARE else 300
    return dt.timedelta(seconds=max(guardrail.kpi.window_seconds, floor))


def _level(guardrail: Guardrail, at: dt.datetime, history: TrafficHistory) -> str:
    kpi = guardrail.kpi
    if guardrail.kind == GuardrailKind.COMPARE:
        return canary.level_of(canary.compare(guardrail, now=at))
    if guardrail.kind == GuardrailKind.NO_DATA:
        since = at - dt.timedelta(seconds=guardrail.no_data_seconds)
        recent = kpis.raw_rows(kpi, since=since, until=at).exists()
        return rules.no_data_level(
            0 if recent else None, guardrail.no_data_seconds, watching=history.percent_at(at) > 0
        )
    reading = kpis.measure(kpi, now=at)
    if guardrail.kind == GuardrailKind.BASELINE:
        if reading.samples < max(guardrail.min_samples, 1):
            return rules.NO_SAMPLES
        return rules.baseline_level(
            reading.value,
            guardrail.baseline_value,
            guardrail.degradation_percent,
            higher_is_better=kpi.direction == Direction.HIGHER_IS_BETTER,
        )
    return rules.threshold_level(kpis.level_of(kpi, reading.value), reading.samples, guardrail.min_samples)


def would_have_fired(guardrail: Guardrail, *, now: dt.datetime) -> Preview:
    if guardrail.kind == GuardrailKind.ALERT:
        return _alert_preview(guardrail, now=now)
    step = _step(guardrail)
    history = TrafficHistory.of(guardrail.migration)
    memory, fired, failing, evaluations = rules.Memory(), 0, 0, 0
    policy = rules.Rules(consecutive=guardrail.consecutive, roll_back=False)
    moments = int(SPAN / step)
    for index in range(moments, 0, -1):
        level = _level(guardrail, now - step * (index - 1), history)
        evaluations += level != rules.NO_SAMPLES
        failing += level == rules.CRITICAL
        memory, actions = rules.step(memory, level, policy)
        fired += any(action in FIRING for action in actions)
    return Preview(fired=fired, evaluations=evaluations, failing=failing, step=step)


def _alert_preview(guardrail: Guardrail, *, now: dt.datetime) -> Preview:
    """Alerts received in the span that the rule's labels match (each one a firing; a row per
    fingerprint, so an alert that fired, resolved and fired again counts once)."""
    rows = ReceivedAlert.objects.filter(
        migration_id=guardrail.migration_id, first_received_at__gte=now - SPAN
    )
    count = sum(received.matches(row.labels, guardrail.matchers or {}) for row in rows)
    return Preview(fired=count, evaluations=count, failing=count, step=SPAN, alerts=count)
