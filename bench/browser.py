"""Item 7: the control room's first load in headless Chromium, next to the migration list.

golive runs under gunicorn with production settings (DEBUG off, whitenoise serving the
collectstatic output, compressed copies included). Chromium logs in through the login form; each
measured page is then opened in a fresh browser context carrying only the session cookie, so its
HTTP cache is cold. Bytes are the sum of CDP Network.loadingFinished encodedDataLength (what came
over the wire: headers plus compressed bodies) of every request the page made until it settled.
"Interactive" is when the page can be used: for the control room, when both Plotly charts are
drawn (the last thing its scripts do; a MutationObserver set before any page script records the
moment); for the list, DOMContentLoaded end (deferred scripts ran, htmx is wired)."""

from __future__ import annotations

import subprocess
import sys

from bench import control_room
from bench.harness import ROOT, Bench, Row

RESULTS = 50_000  # about 2.4 h of history at the control room item's rate: charts have lines
MAX_BYTES = 1.5 * 1024 * 1024
MAX_SECONDS = 1.0
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Before any page script: note when Plotly has drawn both charts.
CHARTS_DRAWN = """
new MutationObserver(function (_, observer) {
  if (document.querySelector('#chart-latency .main-svg') && document.querySelector('#chart-success .main-svg')) {
    window.__chartsDrawnAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def run(bench: Bench) -> list[Row]:
    from playwright.sync_api import sync_playwright

    migration, user = control_room.monitored_migration(
        "bench-browser", results=2_000 if bench.smoke else RESULTS
    )
    _collectstatic(bench)
    base = bench.gunicorn()
    rounds = 1 if bench.smoke else 3
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            state = _log_in(browser, base, user.username)
            lists, rooms = [], []
            for _ in range(rounds):  # alternate, so drift hits both pages alike
                lists.append(_first_load(browser, state, f"{base}/migrations/", charts=False))
                rooms.append(_first_load(browser, state, f"{base}/migrations/{migration.slug}/control-room/"))
            screenshot = bench.workdir / "control-room.png"
            _screenshot(browser, state, f"{base}/migrations/{migration.slug}/control-room/", screenshot)
        finally:
            browser.close()
    return _rows(lists, rooms, screenshot)


def _rows(lists: list[dict], rooms: list[dict], screenshot) -> list[Row]:
    room_bytes = max(load["bytes"] for load in rooms)
    list_bytes = max(load["bytes"] for load in lists)
    room_ready = sorted(load["interactive"] for load in rooms)[len(rooms) // 2]
    list_ready = sorted(load["interactive"] for load in lists)[len(lists) // 2]
    room_dcl = sorted(load["dcl"] for load in rooms)[len(rooms) // 2]
    room_ttfb = sorted(load["ttfb"] for load in rooms)[len(rooms) // 2]
    plotly = rooms[0]["plotly"]
    return [
        Row(
            item="7. Browser: control room first load, bytes",
            target="< 1.5 MB",
            measured=f"{room_bytes / 1024:,.0f} KiB in {rooms[0]['requests']} requests",
            baseline=f"{list_bytes / 1024:,.0f} KiB (migration list)",
            ratio=f"{room_bytes / list_bytes:.1f}",
            met=room_bytes < MAX_BYTES,
            note=f"cold cache, CDP encodedDataLength; Plotly {plotly}",
        ),
        Row(
            item="7. Browser: control room time to interactive",
            target="< 1 s on loopback",
            measured=f"{room_ready:.0f} ms (charts drawn; first byte {room_ttfb:.0f} ms, "
            f"DOMContentLoaded {room_dcl:.0f} ms)",
            baseline=f"{list_ready:.0f} ms (migration list, DOMContentLoaded)",
            ratio=f"{room_ready / list_ready:.1f}",
            met=room_ready < MAX_SECONDS * 1000,
            note=f"median of {len(rooms)} cold loads, headless Chromium, gunicorn 2 sync workers; after the "
            "first byte the time goes to evaluating Plotly (1.1 MB of JS) and drawing two charts; "
            f"screenshot {screenshot.name} in the run's log folder",
        ),
    ]


def _collectstatic(bench: Bench) -> None:
    """DEBUG is off: whitenoise serves only collected (hashed, gzipped) files. Skipped when the
    collected manifest is newer than every source file (it takes a while: it gzips Plotly)."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    sources = [path for path in (ROOT / "static").rglob("*") if path.is_file()]
    if manifest.exists() and all(path.stat().st_mtime < manifest.stat().st_mtime for path in sources):
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=bench.env(),
        check=True,
    )


def _log_in(browser, base: str, username: str) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "bench-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/migrations/**")
    state = context.storage_state()
    context.close()
    return state


def _first_load(browser, state: dict, url: str, *, charts: bool = True) -> dict:
    """Open `url` in a fresh context (cold HTTP cache, logged in); bytes, requests and timings."""
    context = browser.new_context(storage_state=state, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(CHARTS_DRAWN)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        sizes: dict[str, float] = {}
        encodings: dict[str, str] = {}
        urls: dict[str, str] = {}
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        cdp.on("Network.responseReceived", lambda e: _note(e, urls, encodings))
        page.goto(url, wait_until="load")
        if charts:
            page.wait_for_function("window.__chartsDrawnAt !== undefined", timeout=15_000)
        page.wait_for_load_state("networkidle")
        timing = page.evaluate(
            """() => { const n = performance.getEntriesByType('navigation')[0];
                return {ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, interactive: n.domInteractive, load: n.loadEventEnd,
                        charts: window.__chartsDrawnAt || null}; }"""
        )
    finally:
        context.close()
    plotly = next(
        (
            f"{encodings[r] or 'uncompressed'}, {sizes.get(r, 0) / 1024:,.0f} KiB"
            for r, u in urls.items()
            if "plotly" in u
        ),
        "not loaded",
    )
    return {
        "bytes": sum(sizes.values()),
        "requests": len(sizes),
        "dcl": timing["dcl"],
        "ttfb": timing["ttfb"],
        "interactive": timing["charts"] if charts else timing["dcl"],
        "plotly": plotly,
    }


def _note(event: dict, urls: dict, encodings: dict) -> None:
    response = event["response"]
    urls[event["requestId"]] = response["url"]
    headers = {name.lower(): value for name, value in response.get("headers", {}).items()}
    encodings[event["requestId"]] = headers.get("content-encoding", "")


def _screenshot(browser, state: dict, url: str, path) -> None:
    context = browser.new_context(storage_state=state, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(CHARTS_DRAWN)
        page.goto(url, wait_until="load")
        page.wait_for_function("window.__chartsDrawnAt !== undefined", timeout=15_000)
        page.screenshot(path=str(path), full_page=True)
    finally:
        context.close()
