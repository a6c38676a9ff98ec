"""The server `make run` starts holds a burst and stops cleanly, started exactly as make run does
(Procfile.dev under honcho, SQLite and the embedded broker, the seeded demo)."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, free_port, wait_until

BIN = Path(sys.executable).parent
CLICKS = 50


def _make_run_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    web, provider = free_port(), free_port()
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'golive.sqlite3'}",
            "CELERY_BROKER_URL": f"golivesql+sqlite:///{tmp / 'broker.sqlite3'}",
            "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp / "celerybeat-schedule"),
            "GOLIVE_PORT": str(web),
            "DEMO_PROVIDER_PORT": str(provider),
            # the Makefile's DEMO_ENV and PATH
            "GOLIVE_DEMO_PROVIDER_URL": f"http://127.0.0.1:{provider}",
            "DEMO_PROVIDER_API_KEY": "demo-provider-key",
            "PATH": f"{BIN}:{env['PATH']}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _started_by(marker: bytes) -> list[int]:
    """Every live process whose environment holds `marker` (this run's DATABASE_URL): honcho puts
    each child in a session of its own, so the process group alone would miss them."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0") and _alive(entry):
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def _alive(entry: Path) -> bool:
    return (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """`make run`'s steps after installing: migrate, seed the demo, honcho start Procfile.dev,
    in a process group of its own as a terminal would run it."""
    tmp = tmp_path_factory.mktemp("make-run")
    env = _make_run_env(tmp)
    marker = f"DATABASE_URL={env['DATABASE_URL']}".encode()
    base = f"http://127.0.0.1:{env['GOLIVE_PORT']}"
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    seed = [*manage, "seed_demo", "--base-url", base, "--provider-url", env["GOLIVE_DEMO_PROVIDER_URL"]]
    subprocess.run(seed, cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(tmp / "honcho.log", "w+")  # noqa: SIM115 (read after the processes ended)
    honcho = subprocess.Popen(
        [str(BIN / "honcho"), "-f", "Procfile.dev", "start"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: _answers(f"{base}/health"), timeout=60, interval=0.2, message="the web server")
        yield {
            "base": base,
            "honcho": honcho,
            "log": tmp / "honcho.log",
            "db": tmp / "golive.sqlite3",
            "marker": marker,
        }
    finally:
        for pid in _started_by(marker):  # only when a test failed before its own Ctrl-C
            os.kill(pid, signal.SIGKILL)
        honcho.wait(timeout=10)
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _browser(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/login/").text).group(1)
    login = {"username": "oncall", "password": "golive-demo", "csrfmiddlewaretoken": token}
    assert client.post("/login/", data=login).status_code == 302
    return client


def test_it_answers_50_simultaneous_rollback_clicks_without_resetting_a_connection(make_run):
    base = make_run["base"]
    logged_in = _browser(base)
    cookies = dict(logged_in.cookies)
    clicks = [httpx.Client(base_url=base, timeout=60, cookies=cookies) for _ in range(CLICKS)]
    start = threading.Barrier(CLICKS)
    answers: list[object] = [None] * CLICKS

    def click(n: int) -> None:
        start.wait()
        try:
            response = clicks[n].post(
                "/migrations/webhook-service/rollback/",
                data={"reason": f"burst click {n}"},
                headers={"HX-Request": "true", "X-CSRFToken": cookies["csrftoken"]},
            )
            answers[n] = response.status_code
        except httpx.HTTPError as error:  # a reset or refused connection lands here
            answers[n] = f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=click, args=(n,)) for n in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert answers == [200] * CLICKS
    with sqlite3.connect(make_run["db"]) as db:
        (rollbacks,) = db.execute(
            "SELECT count(*) FROM rollout_rollback r JOIN migrations_app_migration m ON m.id = r.migration_id "
            "WHERE m.slug = 'webhook-service'"
        ).fetchone()
    assert rollbacks == 1


def test_ctrl_c_stops_every_process_within_5_seconds_without_a_forced_kill(make_run):
    honcho, marker = make_run["honcho"], make_run["marker"]
    started = _started_by(marker)
    assert len(started) >= 8, started  # honcho, web (master, 2 workers), 2 workers, beat, provider
    pressed = time.monotonic()
    os.killpg(honcho.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends to the foreground group
    wait_until(lambda: not _started_by(marker), timeout=8, interval=0.05, message="every process to exit")
    took = time.monotonic() - pressed
    honcho.wait(timeout=2)
    output = make_run["log"].read_text(errors="replace")
    assert "SIGKILL" not in output, output[-2000:]
    assert took < 5, f"{took:.1f} s"


def test_a_cold_make_run_installs_nothing_already_installed(tmp_path):
    """The install stamps follow the pins' content: a checkout, pull or `make lock` that only
    touches requirements.txt installs nothing again; a changed pin installs."""
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)

    def planned() -> str:
        return subprocess.run(
            ["make", "-n", "run"], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout

    assert "pip install --quiet -r requirements.txt" in planned()  # a fresh clone installs
    subprocess.run(["make", "deps", "PIP=true"], cwd=tmp_path, capture_output=True, check=True)
    assert "-r requirements.txt" not in planned()
    later = time.time() + 60
    os.utime(tmp_path / "requirements.txt", (later, later))  # what git checkout or make lock does
    assert "-r requirements.txt" not in planned()
    with open(tmp_path / "requirements.txt", "a") as pins:
        pins.write("six==1.17.0\n")
    assert "pip install --quiet -r requirements.txt" in planned()
