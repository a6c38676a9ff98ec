"""What every benchmark shares: the result row, the processes it starts, and the load tools.

A benchmark module exposes `run(bench: Bench) -> list[Row]`. It prepares its data through the ORM
(this process runs Django against the bench database), starts what it needs with `bench.start`,
`bench.gunicorn` or `bench.celery_worker` (all stopped when the run ends, whatever happens), and
measures each item next to a baseline taken in the same run, because on a shared two-core machine
ratios hold where absolute times drift.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    """One line of the results table; `met` is None when the row has no pass/fail target."""

    item: str
    target: str
    measured: str
    baseline: str = ""
    ratio: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Bench:
    smoke: bool
    database_url: str
    redis_url: str
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="golive-bench-")))
    _procs: list[subprocess.Popen] = field(default_factory=list)

    # -- processes -------------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            CELERY_BROKER_URL=self.redis_url,
            PYTHONUNBUFFERED="1",
            DEBUG="false",
            SECRET_KEY="bench-only-secret-key-not-for-production-0123456789",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="false",  # plain HTTP on loopback (bench.settings drops Secure cookies)
            LOG_LEVEL="WARNING",
            GOLIVE_PROBE_ALLOWLIST="127.0.0.0/8",
        )
        env.update(extra)
        return env

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        ready_url: str | None = None,
        ready_line: str | None = None,
        timeout: float = 60,
    ) -> subprocess.Popen:
        """Start a process in its own group, logging to the work folder; wait until it is ready."""
        log_path = self.workdir / f"{name}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env or self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc.log_path = log_path  # type: ignore[attr-defined]
        self._procs.append(proc)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
            if ready_url and _answers(ready_url):
                return proc
            if ready_line and ready_line in log_path.read_text(errors="replace"):
                return proc
            if not ready_url and not ready_line:
                return proc
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready after {timeout} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if proc in self._procs:
            self._procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self._procs)):
            self.stop(proc)

    def gunicorn(self, name: str = "gunicorn", *, env: dict[str, str] | None = None) -> str:
        """golive (plus the bench's baseline view) under gunicorn with golive's own settings file
        (golive_site/gunicorn.py, as production runs it); returns its base URL."""
        port = free_port()
        argv = [sys.executable, "-m", "gunicorn", "golive_site.wsgi", "-c", "python:golive_site.gunicorn"]
        argv += ["-b", f"127.0.0.1:{port}", "--log-level", "warning"]
        self.start(name, argv, env=env, ready_url=f"http://127.0.0.1:{port}/health")
        return f"http://127.0.0.1:{port}"

    def celery_worker(self, name: str = "worker", *, concurrency: int = 1, queues: str = "", env=None):
        argv = [sys.executable, "-m", "celery", "-A", "golive_site", "worker", "--loglevel=WARNING"]
        argv += [f"--concurrency={concurrency}", "--without-gossip", "--without-mingle"]
        argv += [f"--hostname={name}-{os.getpid()}@%h"]
        if queues:
            argv += ["-Q", queues]
        # WARNING level hides "ready.", so wait for the worker to answer a ping instead.
        proc = self.start(name, argv, env=env)
        _wait_for_worker(name, proc, timeout=60)
        return proc


def _wait_for_worker(name: str, proc: subprocess.Popen, *, timeout: float) -> None:
    from golive_site.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{proc.log_path.read_text()[-3000:]}")
        replies = app.control.ping(timeout=0.5) or []
        if any(f"{name}-{os.getpid()}@" in next(iter(reply)) for reply in replies):
            return
    raise TimeoutError(f"{name} did not answer a ping within {timeout} s")


def _answers(url: str) -> bool:
    try:
        with urlopen(url, timeout=1) as response:
            return response.status < 500
    except Exception:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- load and statistics --------------------------------------------------------------------


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


_WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "p50": %f, "p99": %f, "non2xx": %d, "errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int = 32,
    threads: int = 1,
    headers: dict | None = None,
    body: str | None = None,
) -> Load:
    """HTTP load from wrk (a C load generator, so the client costs little of the two cores; one
    thread keeps it to at most one core, leaving the server the other and a share of this one).

    With `body` every request is a POST of that body."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    request = f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n' if body is not None else ""
    script.write_text(request + _WRK_REPORT)
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script)]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    script.unlink()
    report = json.loads(re.findall(r"^\{.*\}$", out, re.MULTILINE)[-1])
    return Load(
        requests_per_second=report["requests"] / report["seconds"],
        p50_ms=report["p50"],
        p99_ms=report["p99"],
        non_2xx=report["non2xx"],
        errors=report["errors"],
    )


def until(condition, what: str, *, timeout: float = 15, poll: float = 0.003) -> None:
    """Poll `condition` every `poll` seconds (3 ms: finer than what the timed rows resolve)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(poll)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine() -> dict[str, str]:
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "cores": str(os.cpu_count()),
        "memory": f"{memory_kb / 1024 / 1024:.1f} GiB",
        "cpu": model or "unknown",
        "python": sys.version.split()[0],
    }
