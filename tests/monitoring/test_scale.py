"""KPI and chart queries stay fast with a million stored results (indexes on what they filter by)."""

import time

import pytest
from django.db import connection
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.monitoring import services
from migrations_app.monitoring.models import ProbeResult

pytestmark = pytest.mark.django_db

ROWS = 1_000_000


def test_the_control_room_stays_fast_with_a_million_results(client_for, oncall, migration):
    probes = [
        services.create_probe(
            migration, by=Actor.system("tests"), name=f"Probe {n}", url=f"http://127.0.0.1:9/{n}"
        )
        for n in range(4)
    ]
    services.add_standard_kpis(migration, probe=probes[0], by=Actor.system("tests"))
    now = timezone.now()
    started = time.monotonic()
    with connection.cursor() as cursor:
        # A million results over the last 48 hours, spread over four probes (about 6 per second).
        cursor.execute(
            """
            INSERT INTO monitoring_proberesult (probe_id, migration_id, due_at, checked_at, outcome, status_code,
                                                latency_ms, value, error, detail, traffic_percent)
            SELECT %(first)s + (i %% 4), %(migration)s, %(now)s - make_interval(secs => i * 0.1728),
                   %(now)s - make_interval(secs => i * 0.1728),
                   CASE WHEN i %% 500 = 0 THEN 'fail' WHEN i %% 997 = 0 THEN 'error' ELSE 'pass' END,
                   200, 50 + (i %% 300), NULL, '', '{}', (i / 250000) * 25
            FROM generate_series(1, %(rows)s) AS i
            """,
            {"first": probes[0].pk, "migration": migration.pk, "now": now, "rows": ROWS},
        )
        cursor.execute("ANALYZE monitoring_proberesult")
    inserted = time.monotonic() - started
    assert ProbeResult.objects.count() == ROWS
    client = client_for(oncall)
    client.get(f"/migrations/{migration.slug}/control-room/live/")  # warm up
    timings = {}
    for span in ("15m", "1h", "24h"):
        started = time.monotonic()
        response = client.get(
            f"/migrations/{migration.slug}/control-room/live/?span={span}", HTTP_HX_REQUEST="true"
        )
        timings[span] = time.monotonic() - started
        assert response.status_code == 200
        assert "Success rate" in response.content.decode()
    print(
        f"\ninserted {ROWS} results in {inserted:.1f} s; live partial: "
        + ", ".join(f"{span} {seconds * 1000:.0f} ms" for span, seconds in timings.items())
    )
    from migrations_app.monitoring import selectors

    for name, call in [
        ("tiles", lambda: selectors.tiles(migration, now=now)),
        ("levels", lambda: selectors.per_traffic_level(migration, now=now)),
        ("chart 1h", lambda: selectors.chart_figures(migration, now=now, span=selectors.SPANS["1h"])),
        ("chart 24h", lambda: selectors.chart_figures(migration, now=now, span=selectors.SPANS["24h"])),
    ]:
        started = time.monotonic()
        call()
        print(f"{name}: {(time.monotonic() - started) * 1000:.0f} ms")
    assert max(timings.values()) < 2.0, timings
