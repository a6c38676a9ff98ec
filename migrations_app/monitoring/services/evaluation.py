"""Guardrail evaluation: observe, step the state machine, store, then alert, pause or roll back."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring import canary, kpis, pausing, received
from migrations_app.monitoring import guardrails as rules
from migrations_app.monitoring.models import Direction, Guardrail, GuardrailAction, GuardrailKind, Kpi
from migrations_app.monitoring.services.alerts import send_alert
from migrations_app.monitoring.services.traffic import traffic_percent
from migrations_app.rollout import gates as rollout_gates
from migrations_app.rollout import services as rollout

# Web and worker hosts' clocks may differ a little: an evaluation counts as having seen a batch
# only when it started at least this long after the batch was committed.
CLOCK_SLACK = dt.timedelta(milliseconds=500)


def evaluate_pushed_guardrails(
    *, migration_id: int, metrics: list[str], pushed_at: dt.datetime | None
) -> int:
    """Evaluate the guardrails on metrics a batch just brought; returns how many were evaluated.

    Under a burst of pushes the evaluations queue up behind each other. A guardrail evaluated after
    the batch was committed has already seen its samples, so that batch does not evaluate it again:
    one cheap query instead of an aggregate over the window, and the worker keeps up."""
    guardrails = Guardrail.objects.filter(migration_id=migration_id, kpi__metric__in=metrics, enabled=True)
    guardrails = guardrails.exclude(kind=GuardrailKind.NO_DATA)
    seen_after = None if pushed_at is None else pushed_at + CLOCK_SLACK
    if seen_after is not None:
        guardrails = guardrails.exclude(last_evaluated_at__gte=seen_after)
    evaluated = 0
    for guardrail in guardrails:
        _, actions = evaluate_guardrail(guardrail, unless_evaluated_since=seen_after)
        evaluated += actions is not None
    return evaluated


def _observe(guardrail: Guardrail, now: dt.datetime) -> tuple[str, float | None, str]:
    """(level, value, message) for one evaluation of one guardrail."""
    if guardrail.kind == GuardrailKind.ALERT:
        return _observe_alerts(guardrail)
    kpi = guardrail.kpi
    assert kpi is not None  # every other kind has one (the guardrail_kpi_unless_alert constraint)
    if guardrail.kind == GuardrailKind.NO_DATA:
        last = kpis.last_data_at(kpi)
        silence = None if last is None else (now - last).total_seconds()
        watching = traffic_percent(guardrail.migration) > 0
        level = rules.no_data_level(silence, guardrail.no_data_seconds, watching=watching)
        if not watching:
            return level, silence, "Not watching: no traffic on the new path."
        shown = "never" if last is None else f"{silence:.0f} s ago"
        return level, silence, f"Last data {shown}; limit {guardrail.no_data_seconds} s."
    reading = kpis.measure(kpi, now=now)
    if guardrail.kind == GuardrailKind.BASELINE:
        if guardrail.baseline_value is None and traffic_percent(guardrail.migration) > 0:
            guardrail.baseline_value = measure_baseline(kpi, now=now)
        if reading.samples < max(guardrail.min_samples, 1):
            return (
                rules.NO_SAMPLES,
                reading.value,
                f"{reading.samples} samples in the window; need {guardrail.min_samples}.",
            )
        level = rules.baseline_level(
            reading.value,
            guardrail.baseline_value,
            guardrail.degradation_percent,
            higher_is_better=kpi.direction == Direction.HIGHER_IS_BETTER,
        )
        base = (
            "not measured"
            if guardrail.baseline_value is None
            else kpis.format_value(kpi, guardrail.baseline_value)
        )
        return level, reading.value, f"{kpis.format_value(kpi, reading.value)} against baseline {base}."
    level = rules.threshold_level(kpis.level_of(kpi, reading.value), reading.samples, guardrail.min_samples)
    if level == rules.NO_SAMPLES:
        return level, reading.value, f"{reading.samples} samples in the window; need {guardrail.min_samples}."
    return level, reading.value, f"{kpis.format_value(kpi, reading.value)} (critical {kpi.threshold_label})."


def _observe_alerts(guardrail: Guardrail) -> tuple[str, float | None, str]:
    """A matching firing alert is critical at once (the sender already waited its `for:`)."""
    firing = received.firing_for(guardrail)
    if not firing:
        return rules.OK, 0, "No matching alert firing."
    more = f" (and {len(firing) - 1} more)" if len(firing) > 1 else ""
    return rules.CRITICAL, len(firing), received.describe(firing[0]) + more


def measure_baseline(
    kpi: Kpi, *, now: dt.datetime, window: dt.timedelta = dt.timedelta(hours=1)
) -> float | None:
    """The KPI over data taken at 0 % traffic (before the rollout started) in the last hour."""
    return kpis.measure(kpi, now=now, window=window, traffic_percent=0).value


def evaluate_guardrail(
    guardrail: Guardrail, *, now: dt.datetime | None = None, unless_evaluated_since: dt.datetime | None = None
) -> tuple[str, tuple[str, ...] | None]:
    """One evaluation: observe, step the state machine, store, then act (alert or roll back).

    With `unless_evaluated_since`, a guardrail another worker evaluated since then is left as it
    is (actions None): that evaluation already saw the data this one was asked for."""
    now = now or timezone.now()
    with transaction.atomic():
        guardrail = (
            Guardrail.objects.select_for_update(of=("self",))
            .select_related("kpi__probe", "migration")
            .get(pk=guardrail.pk)
        )
        last = guardrail.last_evaluated_at
        if unless_evaluated_since is not None and last is not None and last >= unless_evaluated_since:
            return guardrail.state, None
        comparison = canary.compare(guardrail, now=now) if guardrail.kind == GuardrailKind.COMPARE else None
        if comparison is not None:
            level, value, message = canary.level_of(comparison), comparison.difference, comparison.message
        else:
            level, value, message = _observe(guardrail, now)
        before = rules.Memory(guardrail.state, guardrail.breach_streak, guardrail.fired)
        after, actions = rules.step(
            before,
            level,
            rules.Rules(
                consecutive=1 if guardrail.kind == GuardrailKind.ALERT else guardrail.consecutive,
                roll_back=guardrail.action == GuardrailAction.ROLLBACK,
                pause=guardrail.action == GuardrailAction.PAUSE,
            ),
        )
        if comparison is not None:
            message = canary.with_streak(
                comparison, streak=after.breach_streak, consecutive=guardrail.consecutive
            )
            canary.record_verdict(guardrail, comparison, now=now, message=message)
        guardrail.last_verdict = comparison.verdict if comparison else canary.verdict_of_level(level)
        guardrail.state, guardrail.breach_streak, guardrail.fired = (
            after.state,
            after.breach_streak,
            after.fired,
        )
        guardrail.last_value, guardrail.last_evaluated_at, guardrail.last_message = value, now, message[:300]
        guardrail.save(
            update_fields=[
                "state",
                "breach_streak",
                "fired",
                "last_value",
                "last_evaluated_at",
                "last_message",
                "last_verdict",
                "baseline_value",
            ]
        )
        if after.state != before.state:
            audit.record(
                Actor.system(f"guardrail: {guardrail.name}"),
                "guardrail.state_changed",
                guardrail,
                migration=guardrail.migration,
                before={"state": before.state},
                after={"state": after.state},
                reason=message,
            )
        for action in actions:
            _act(guardrail, action, message, now)
    return after.state, actions


def _act(guardrail: Guardrail, action: str, message: str, now: dt.datetime) -> None:
    migration = guardrail.migration
    if action == rules.ALERT_WARNING:
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:warning",
            level="warning",
            message=f"Guardrail “{guardrail.name}” warning: {message}",
        )
    elif action == rules.ALERT_BREACH:
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:breach",
            level="critical",
            message=f"Guardrail “{guardrail.name}” breached (alert only): {message}",
        )
    elif action == rules.ROLL_BACK:
        fire_rollback(guardrail, message, now)
    elif action == rules.PAUSE:
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:breach",
            level="critical",
            message=pausing.fire_pause(guardrail, message),
        )


def fire_rollback(guardrail: Guardrail, message: str, now: dt.datetime) -> None:
    """The same rollback as the button, with the guardrail as the actor and the samples as evidence."""
    migration = Migration.objects.get(pk=guardrail.migration_id)
    if traffic_percent(migration) == 0 or rollout_gates.rollback_blocker(migration):
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:breach",
            level="critical",
            message=f"Guardrail “{guardrail.name}” breached, nothing to roll back: {message}",
        )
        return
    try:
        rollout.roll_back(
            migration,
            by=Actor.system(f"guardrail: {guardrail.name}"),
            reason=f"Guardrail “{guardrail.name}” {fired_words(guardrail)}: {message}",
            evidence=breach_evidence(guardrail, now),
        )
    except ValidationError as error:  # the status changed meanwhile: tell a person instead
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:breach",
            level="critical",
            message=f"Guardrail “{guardrail.name}” breached but could not roll back ({'; '.join(error.messages)}): {message}",
        )


def fired_words(guardrail: Guardrail) -> str:
    if guardrail.kind == GuardrailKind.ALERT:
        return "fired on a firing alert"
    return f"breached {guardrail.consecutive} evaluations in a row"


def breach_evidence(guardrail: Guardrail, now: dt.datetime, *, limit: int = 50) -> dict:
    kpi = guardrail.kpi
    if kpi is None:  # an alert guardrail: the alerts that fired it are the evidence
        return {
            "guardrail": guardrail.name,
            "rule": guardrail.get_kind_display(),
            "matchers": guardrail.matchers,
            "alerts": [received.as_evidence(alert) for alert in received.firing_for(guardrail)[:limit]],
        }
    since = now - dt.timedelta(
        seconds=max(
            kpi.window_seconds, guardrail.no_data_seconds if guardrail.kind == GuardrailKind.NO_DATA else 0
        )
    )
    rows = kpis.raw_rows(kpi, since=since, until=now)
    if kpi.probe_id:
        samples = [
            {
                "at": r.checked_at.isoformat(),
                "outcome": r.outcome,
                "status": r.status_code,
                "latency_ms": r.latency_ms and round(r.latency_ms, 1),
                "value": r.value,
                "error": r.error,
                "traffic_percent": r.traffic_percent,
            }
            for r in rows.order_by("-checked_at")[:limit]
        ]
    else:
        samples = [
            {
                "at": s.at.isoformat(),
                "value": s.value,
                "ok": s.ok,
                "failed": s.failed,
                "traffic_percent": s.traffic_percent,
            }
            for s in rows.order_by("-at")[:limit]
        ]
    return {
        "guardrail": guardrail.name,
        "rule": guardrail.get_kind_display(),
        "kpi": kpi.name,
        "source": kpi.source_label,
        "threshold": kpi.threshold_label,
        "value": guardrail.last_value,
        "consecutive": guardrail.consecutive,
        "window_seconds": kpi.window_seconds,
        "breaching_samples": samples,
    }
