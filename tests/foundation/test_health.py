import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.processes import ROOT, free_port, process_env, wait_until

pytestmark = pytest.mark.django_db


def test_health_answers_ok_with_the_version(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def gunicorn_without_database(tmp_path):
    """A real golive web process whose database is unreachable (nothing listens on its port)."""
    port, dead_db_port = free_port(), free_port()
    env = process_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{dead_db_port}/golive", GOLIVE_VERSION="test-sha"
    )
    args = ["gunicorn", "golive_site.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "30"]
    with open(tmp_path / "gunicorn.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/health"

    def up():
        try:
            urllib.request.urlopen(url, timeout=2)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    try:
        wait_until(up, timeout=20, interval=0.2, message="gunicorn to listen")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_health_answers_503_naming_the_database_when_it_is_unreachable(gunicorn_without_database):
    status, body = _get(gunicorn_without_database)
    assert status == 503
    assert body["status"] == "error"
    assert body["failing"] == "database"
    assert body["version"] == "test-sha"
