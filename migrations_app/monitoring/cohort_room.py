"""Reads for the control room's canary section: the new path against the old path, per KPI.

For each KPI with cohort data: both cohorts' series on one clock, the compare guardrail's verdict
history (difference and interval per evaluation) and a table row with the numbers of its last
verdict, exactly as the guardrail computed them (canary.compare), so what the page shows is what
paused the rollout. Beside them, the users the flag APIs served each path (rollout/exposure.py)."""

from __future__ import annotations

import datetime as dt

from migrations_app.models import Migration
from migrations_app.monitoring import canary, charts, kpis, pausing
from migrations_app.monitoring.cohorts import NEW, OLD
from migrations_app.monitoring.models import Direction, Guardrail, GuardrailKind, Kpi, Verdict
from migrations_app.monitoring.selectors import markers as traffic_markers
from migrations_app.rollout.exposure import exposure_by_path

EXPOSURE_WINDOW = dt.timedelta(minutes=5)
BUCKETS = 60
VERDICT_CLASS = {
    Verdict.PASS: "healthy",
    Verdict.FAIL: "breached",
    Verdict.INCONCLUSIVE: "warning",
    Verdict.NO_DATA: "na",
}
VERDICT_WORDS = {
    Verdict.PASS: "Pass: new path within tolerance",
    Verdict.FAIL: "Fail: new path worse than old",
    Verdict.INCONCLUSIVE: "Inconclusive: not enough evidence yet",
    Verdict.NO_DATA: "No data on one of the paths",
}
ACTION_WORDS = {"alert": "alerts", "pause": "pauses the rollout", "rollback": "rolls back"}


def cohort_room(migration: Migration, *, now: dt.datetime, span: dt.timedelta) -> dict:
    """{"exposure", "pause", "rows", "figures"}: everything the canary section shows."""
    compared = _compare_guardrails(migration)
    rows, figures = [], []
    markers = traffic_markers(migration, since=now - span)
    for kpi in _kpis_with_cohorts(migration, compared, now=now, span=span):
        guardrails = compared.get(kpi.pk, [])
        rows += [_row(kpi, guardrail) for guardrail in guardrails] or [_uncompared_row(kpi, now=now)]
        figures.append(
            {
                "id": f"cohort-chart-{kpi.pk}",
                "figure": _figure(kpi, guardrails, now=now, span=span, markers=markers),
            }
        )
    return {
        "exposure": exposure_by_path(migration, since=now - EXPOSURE_WINDOW, until=now),
        "exposure_minutes": int(EXPOSURE_WINDOW.total_seconds() // 60),
        "pause": pausing.pause_details(migration),
        "rows": rows,
        "figures": figures,
    }


def _compare_guardrails(migration: Migration) -> dict[int, list[Guardrail]]:
    by_kpi: dict[int, list[Guardrail]] = {}
    queryset = Guardrail.objects.filter(migration=migration, kind=GuardrailKind.COMPARE, enabled=True)
    for guardrail in queryset.select_related("kpi__probe").order_by("name"):
        by_kpi.setdefault(guardrail.kpi_id, []).append(guardrail)
    return by_kpi


def _kpis_with_cohorts(migration, compared: dict, *, now: dt.datetime, span: dt.timedelta) -> list[Kpi]:
    """KPIs a compare guardrail watches, and KPIs whose samples carry a cohort within the span."""
    out = []
    for kpi in Kpi.objects.filter(migration=migration).select_related("probe"):
        if kpi.pk in compared or kpis.raw_rows(kpi, since=now - span, until=now, cohort=NEW).exists():
            out.append(kpi)
    return out


def difference_unit(kpi: Kpi, guardrail: Guardrail | None) -> str:
    if guardrail is not None and guardrail.tolerance_percent is not None:
        return "%"
    return "points" if kpis.uses_counts(kpi) else (kpi.unit or "")


def signed(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    shown = f"{value:+.0f}" if abs(value) >= 10 else f"{value:+.1f}"
    return f"{shown.replace('-', '−')} {unit}".rstrip()


def worse_tolerance(kpi: Kpi, guardrail: Guardrail) -> float:
    """The tolerance on the side of "worse" (the difference is new − old, unoriented)."""
    worse = 1 if kpi.direction == Direction.LOWER_IS_BETTER else -1
    return worse * canary.tolerance(guardrail)


def _row(kpi: Kpi, guardrail: Guardrail) -> dict:
    last = canary.last_verdict(guardrail)
    unit = difference_unit(kpi, guardrail)
    verdict = last.verdict if last else ""
    return {
        "kpi": kpi,
        "guardrail": guardrail,
        "verdict": verdict,
        "css": VERDICT_CLASS.get(verdict, "na"),
        "words": VERDICT_WORDS.get(verdict, "Not evaluated yet"),
        "new": kpis.format_value(kpi, last.new) if last else "no data",
        "old": kpis.format_value(kpi, last.old) if last else "no data",
        "n_new": last.n_new if last else 0,
        "n_old": last.n_old if last else 0,
        "difference": signed(last.difference, unit) if last else "—",
        "interval": (
            f"{signed(last.low, unit)} … {signed(last.high, unit)}" if last and last.low is not None else "—"
        ),
        "confidence": guardrail.confidence,
        "tolerance": signed(worse_tolerance(kpi, guardrail), unit),
        "message": last.message if last else "",
        "at": last.at if last else None,
        "action": ACTION_WORDS.get(guardrail.action, guardrail.action),
    }


def _uncompared_row(kpi: Kpi, *, now: dt.datetime) -> dict:
    """A KPI with cohort data that no compare guardrail watches: both values, no verdict."""
    new, old = (kpis.measure(kpi, now=now, cohort=cohort) for cohort in (NEW, OLD))
    return {
        "kpi": kpi,
        "guardrail": None,
        "verdict": "",
        "css": "na",
        "words": "Not compared: no compare guardrail watches this KPI",
        "new": kpis.format_value(kpi, new.value),
        "old": kpis.format_value(kpi, old.value),
        "n_new": new.samples,
        "n_old": old.samples,
        "difference": "—",
        "interval": "—",
        "message": "",
        "at": None,
        "action": "",
    }


def _figure(kpi: Kpi, guardrails: list[Guardrail], *, now, span, markers) -> dict:
    since = now - span
    width = max(span / BUCKETS, dt.timedelta(seconds=5))
    new, old = (kpis.series(kpi, since=since, until=now, width=width, cohort=c) for c in (NEW, OLD))
    guardrail = guardrails[0] if guardrails else None
    verdicts = [
        {
            "at": v.at,
            "verdict": v.verdict,
            "difference": v.difference,
            "low": v.low,
            "high": v.high,
            "message": v.message,
        }
        for v in (canary.verdict_history(guardrail, since=since) if guardrail else [])
    ]
    unit = difference_unit(kpi, guardrail)
    return charts.cohort_chart(
        title=f"{kpi.name}: new path vs old path",
        unit=kpi.unit,
        new=new,
        old=old,
        verdicts=verdicts,
        tolerance=worse_tolerance(kpi, guardrail) if guardrail else None,
        difference_unit=unit,
        markers=markers,
    )
