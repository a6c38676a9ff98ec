"""“This rule would have fired N times in the last 24 h”: a guardrail replayed over stored data.

The rule (saved or not) is evaluated at evenly spaced moments of the last day, each over the
KPI's own window ending then, and the observations are fed through the same state machine the
worker uses (guardrails.step). The spacing is at least 5 minutes (15 for compare rules, whose
evaluation reads values) so that a preview costs a few hundred queries at most."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from migrations_app.monitoring import canary, kpis
from migrations_app.monitoring import guardrails as rules
from migrations_app.monitoring.cohorts import TrafficHistory
from migrations_app.monitoring.models import Direction, Guardrail, GuardrailKind

SPAN = dt.timedelta(hours=24)
FIRING = {rules.ROLL_BACK, rules.PAUSE, rules.ALERT_BREACH}


@dataclass(frozen=True)
class Preview:
    fired: int
    evaluations: int
    failing: int  # evaluations that counted towards firing
    step: dt.timedelta

    @property
    def sentence(self) -> str:
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
