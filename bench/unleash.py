"""Item 2: the Unleash client API's features endpoint with 200 migrations.

One client asks in turn (as SDKs do, each on its own timer), so the times are the server's per
request plus loopback, next to the minimal JSON view asked the same way."""

from __future__ import annotations

import time

import httpx

from bench import data
from bench.harness import Bench, Row, percentile

MIGRATIONS = 200


def run(bench: Bench) -> list[Row]:
    count = 20 if bench.smoke else MIGRATIONS
    for number in range(count):
        data.live_migration(f"bench-unleash-{number:03d}", percent=(5, 25, 50, 100)[number % 4])
    token = data.api_token("flags", name="bench unleash")
    base = bench.gunicorn()
    headers = {"Authorization": token, "UNLEASH-APPNAME": "bench", "UNLEASH-INSTANCEID": "bench-1"}
    requests = 50 if bench.smoke else 400

    with httpx.Client(base_url=base, headers=headers) as client:
        first = client.get("/api/client/features")
        first.raise_for_status()
        features = first.json()["features"]
        etag = first.headers["ETag"]
        full = _times(client, "/api/client/features", requests)
        not_modified = _times(client, "/api/client/features", requests, {"If-None-Match": etag})
        baseline = _times(client, "/bench/minimal-json", requests)
        status_304 = client.get("/api/client/features", headers={"If-None-Match": etag}).status_code

    full_p95, base_p95 = percentile(full, 95), percentile(baseline, 95)
    shown = sum(1 for feature in features if feature["name"].startswith("bench-unleash-"))
    return [
        Row(
            item=f"2. Unleash features: full body, {shown} migrations",
            target="< 20 ms",
            measured=f"p95 {full_p95:.1f} ms (p50 {percentile(full, 50):.1f} ms, {len(first.content) / 1024:.0f} KB)",
            baseline=f"p95 {base_p95:.1f} ms (minimal JSON view)",
            ratio=f"{full_p95 / base_p95:.1f}",
            met=full_p95 < 20 and shown == count,
        ),
        Row(
            item="2. Unleash features: current If-None-Match",
            target="304",
            measured=f"{status_304}, p95 {percentile(not_modified, 95):.1f} ms",
            baseline=f"p95 {base_p95:.1f} ms",
            ratio=f"{percentile(not_modified, 95) / base_p95:.1f}",
            met=status_304 == 304,
        ),
    ]


def _times(client: httpx.Client, path: str, count: int, headers: dict | None = None) -> list[float]:
    for _ in range(10):  # warm: connections, caches
        client.get(path, headers=headers)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code not in (200, 304):
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")
    return times
