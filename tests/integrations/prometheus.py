"""A real Prometheus server for tests: started on a free 127.0.0.1 port with a temporary config and
data directory, asked through its HTTP API, stopped by its PID."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml

from tests.processes import _stop, free_port, wait_until

BINARY = shutil.which("prometheus")
WAIT_SECONDS = 30


def scrape_config(target_url: str, *, credentials_file: Path) -> dict:
    """The scrape config docs/integrations.md gives people, pointed at `target_url`, every second."""
    target = urlsplit(target_url)
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "golive",
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "metrics_path": "/metrics",
                "scheme": target.scheme,
                "authorization": {"type": "Bearer", "credentials_file": str(credentials_file)},
                "static_configs": [{"targets": [target.netloc]}],
            }
        ],
    }


class Prometheus:
    def __init__(self, url: str, proc: subprocess.Popen, log_path: Path):
        self.url, self.proc, self.log_path = url, proc, log_path

    def query(self, promql: str) -> list[dict]:
        """The instant vector `promql` selects now: [{"metric": {...}, "value": [t, "v"]}]."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5).json()
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def values(self, promql: str) -> dict[str, float]:
        """{migration label (or "") : value} of `promql` now."""
        return {row["metric"].get("migration", ""): float(row["value"][1]) for row in self.query(promql)}

    def wait_for(self, promql: str, expected, *, label: str = "") -> dict[str, float]:
        def seen():
            values = self.values(promql)
            return values if values.get(label) == expected else None

        try:
            return wait_until(seen, timeout=WAIT_SECONDS, interval=0.25, message=f"{promql} == {expected}")
        except AssertionError as error:
            raise AssertionError(f"{error}; last: {self.values(promql)}; targets: {self.targets()}") from None

    def targets(self) -> list[dict]:
        answer = httpx.get(f"{self.url}/api/v1/targets", timeout=5).json()
        return answer["data"]["activeTargets"]


@contextmanager
def prometheus(tmp_path: Path, config: dict) -> Iterator[Prometheus]:
    assert BINARY, "Prometheus is not installed (Debian: apt-get install prometheus)"
    port = free_port()
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    log_path = tmp_path / "prometheus.log"
    args = [
        BINARY,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    server = Prometheus(f"http://127.0.0.1:{port}", proc, log_path)

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            return httpx.get(f"{server.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, timeout=WAIT_SECONDS, interval=0.2, message="prometheus ready")
        yield server
    finally:
        _stop(proc)
