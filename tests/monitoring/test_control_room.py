"""The control room reads all its KPIs side by side, and the per-level table refreshes on its own."""

import datetime as dt

import pytest
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.monitoring import kpis, selectors, services
from migrations_app.monitoring.models import (
    Aggregation,
    Direction,
    Kpi,
    Outcome,
    ProbeField,
    ProbeResult,
    Sample,
)

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def url(migration, suffix=""):
    return f"/migrations/{migration.slug}/control-room/{suffix}"


@pytest.fixture
def busy(migration):
    """Two probes and three metrics with an hour of mixed results at two traffic levels, and a KPI of
    every aggregation on each kind of source, with different windows."""
    now = timezone.now()
    probes = [
        services.create_probe(migration, by=SYSTEM, name=f"Probe {n}", url=f"http://127.0.0.1:9/{n}")
        for n in range(2)
    ]
    results = []
    for i in range(720):
        at = now - dt.timedelta(seconds=5 * i + 1)
        outcome = Outcome.FAIL if i % 17 == 0 else Outcome.ERROR if i % 23 == 0 else Outcome.PASS
        results.append(
            ProbeResult(
                probe=probes[i % 2],
                migration=migration,
                due_at=at,
                checked_at=at,
                outcome=outcome,
                latency_ms=20 + (i * 37) % 400,
                value=i % 13,
                traffic_percent=25 if i < 300 else 10,
            )
        )
    ProbeResult.objects.bulk_create(results)
    samples = []
    for i in range(600):
        at = now - dt.timedelta(seconds=6 * i + 2)
        metric = ["payment_success", "webhook_delivery", "queue_depth"][i % 3]
        samples.append(
            Sample(
                migration=migration,
                metric=metric,
                at=at,
                ok=100 + i % 7,
                failed=i % 5,
                value=float(i % 11) if metric == "queue_depth" else None,
                traffic_percent=25 if i < 200 else 10,
            )
        )
    Sample.objects.bulk_create(samples)
    specs = []
    for source in ({"probe": probes[0]}, {"probe": probes[1], "probe_field": ProbeField.LATENCY}):
        for aggregation in Aggregation.values:
            specs.append((source, aggregation))
    for metric, aggregation in [
        ("payment_success", Aggregation.RATE),
        ("webhook_delivery", Aggregation.ERROR_RATE),
        ("queue_depth", Aggregation.P95),
        ("queue_depth", Aggregation.MEAN),
        ("queue_depth", Aggregation.LAST),
        ("webhook_delivery", Aggregation.COUNT),
    ]:
        specs.append(({"metric": metric}, aggregation))
    for n, (source, aggregation) in enumerate(specs):
        Kpi.objects.create(
            migration=migration,
            name=f"KPI {n}",
            aggregation=aggregation,
            direction=Direction.LOWER_IS_BETTER,
            critical=1000,
            window_seconds=[60, 300, 900][n % 3],
            **source,
        )
    return now


def test_it_shows_every_tile_as_it_reads_one_kpi_at_a_time(migration, busy):
    now = busy
    shown = {tile["kpi"].pk: tile for tile in selectors.tiles(migration, now=now)}
    assert len(shown) == Kpi.objects.filter(migration=migration).count() > 10
    for kpi in Kpi.objects.filter(migration=migration):
        alone = kpis.measure(kpi, now=now)
        assert shown[kpi.pk]["value"] == pytest.approx(alone.value), kpi.get_aggregation_display()
        assert shown[kpi.pk]["samples"] == alone.samples
        span = dt.timedelta(seconds=max(kpi.window_seconds * 6, 600))
        trend = kpis.series(kpi, since=now - span, until=now, width=span / 20)
        assert shown[kpi.pk]["spark"] == selectors.charts.sparkline([value for _, value in trend])
        assert len(trend) >= 2


def test_it_shows_each_traffic_level_as_it_reads_one_kpi_at_a_time(migration, busy):
    now = busy
    table = selectors._per_traffic_level(migration, now=now, window=dt.timedelta(hours=24))
    assert table["levels"] == [10, 25]
    for row in table["rows"]:
        alone = dict(kpis.by_traffic_level(row["kpi"], now=now, window=dt.timedelta(hours=24)))
        expected = [kpis.format_value(row["kpi"], alone[level].value) for level in table["levels"]]
        assert [cell["text"] for cell in row["cells"]] == expected


def test_the_per_level_table_refreshes_on_its_own_not_with_every_live_poll(
    client_for, oncall, migration, busy
):
    page = client_for(oncall).get(url(migration)).content.decode()
    assert "KPIs per traffic level" in page and 'hx-trigger="load, every 60s"' in page  # after the page
    assert "at 25 %" not in page
    live = client_for(oncall).get(url(migration, "live/"), HTTP_HX_REQUEST="true").content.decode()
    assert "KPIs per traffic level" not in live and "KPI 0" in live
    panel = client_for(oncall).get(url(migration, "levels/"), HTTP_HX_REQUEST="true")
    assert panel.status_code == 200
    html = panel.content.decode()
    assert html.lstrip().startswith('<section id="levels"')
    assert "at 10 %" in html and "at 25 %" in html and "<html" not in html
    assert 'hx-trigger="every 60s"' in html


def test_the_per_level_panel_waits_hidden_until_there_is_data(client_for, oncall, migration):
    html = client_for(oncall).get(url(migration, "levels/")).content.decode()
    assert 'id="levels"' in html and "hidden" in html and "<table" not in html


def test_an_outsider_cannot_see_the_per_level_panel(client_for, outsider, migration):
    assert client_for(outsider).get(url(migration, "levels/")).status_code == 403


def test_the_per_level_panel_only_answers_get(client_for, ops, migration):
    assert client_for(ops).post(url(migration, "levels/")).status_code == 405


def _chart_points(figures: dict) -> dict:
    return {
        (chart, trace["name"]): list(zip(trace["x"], trace["y"], strict=True))
        for chart, figure in figures.items()
        for trace in figure.get("data", [])
    }


def test_the_charts_keep_finished_buckets_and_add_what_arrives_since(migration, busy):
    from django.core.cache import cache

    now = busy
    span = selectors.SPANS["1h"]
    first = _chart_points(selectors.chart_figures(migration, now=now, span=span))
    cache.clear()
    assert _chart_points(selectors.chart_figures(migration, now=now, span=span)) == first
    probe = migration.probes.order_by("id").first()
    later = now + dt.timedelta(seconds=20)
    for n in range(5):
        at = now + dt.timedelta(seconds=n)
        ProbeResult.objects.create(
            probe=probe, migration=migration, due_at=at, checked_at=at, outcome=Outcome.FAIL, latency_ms=5000
        )
    kept = _chart_points(selectors.chart_figures(migration, now=later, span=span))
    cache.clear()
    fresh = _chart_points(selectors.chart_figures(migration, now=later, span=span))
    assert kept == fresh
    assert kept[("latency", probe.name)][-1][1] == 5000  # the newest bucket shows the slow failures
    assert kept[("success", probe.name)][-1][1] < 100
