"""Helpers for the metrics tests: reading an exposition, and probe data to expose."""

import datetime as dt

from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from migrations_app.audit import Actor
from migrations_app.monitoring import services as monitoring_services
from migrations_app.monitoring.models import Guardrail, Kpi
from migrations_app.monitoring.probing.kinds import Outcome as RunOutcome

SYSTEM = Actor.system("tests")


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """{(sample name, its labels): value} of an exposition, read by prometheus-client's parser."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


def probe_with_guardrail(migration):
    probe = monitoring_services.create_probe(
        migration, by=SYSTEM, name="Provider health", url="http://127.0.0.1:9/"
    )
    kpi = Kpi.objects.create(migration=migration, name="Health", probe=probe, critical=99, window_seconds=600)
    Guardrail.objects.create(
        migration=migration, name="Health above 99 %", kpi=kpi, action="alert", consecutive=1, min_samples=1
    )
    return probe


def record_probe_runs(migration):
    """Four runs of a probe with a guardrail: two passes (40, 300 ms), a failure (1.2 s), a timeout."""
    probe = probe_with_guardrail(migration)
    now = timezone.now()
    runs = [
        RunOutcome("pass", "200 OK", status_code=200, latency_ms=40),
        RunOutcome("pass", "200 OK", status_code=200, latency_ms=300),
        RunOutcome("fail", "503", status_code=503, latency_ms=1200),
        RunOutcome("error", "timed out", latency_ms=5000),
    ]
    monitoring_services.record_probe_results(
        [(probe, now - dt.timedelta(seconds=10 * i), run) for i, run in enumerate(runs)], now=now
    )
