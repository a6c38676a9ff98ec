"""A golive web process whose database has been unreachable from the start (nothing listens on its
port), DEBUG on and off: every surface answers 503 with a sentence in its own shape, never a 500
or a traceback. (With a database read before the outage, the flag APIs answer from their last
good copy instead: test_postgres_restart.py.)"""

import subprocess
import sys

import httpx
import pytest

from tests.processes import ROOT, free_port, process_env, wait_until

BEARER = {"Authorization": "Bearer glv_0123abcd_not-checked-while-the-database-is-down"}


@pytest.fixture(params=["true", "false"], ids=["debug-on", "debug-off"])
def server_without_database(request, tmp_path):
    port, dead_db_port = free_port(), free_port()
    env = process_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{dead_db_port}/golive",
        DEBUG=request.param,
        SECRET_KEY="test-" + "k" * 60,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
    )
    args = [sys.executable, "-m", "gunicorn", "golive_site.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"]
    with open(tmp_path / "gunicorn.log", "w") as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 503
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout=30, interval=0.2, message="gunicorn to listen")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_every_surface_answers_503_with_a_sentence(server_without_database):
    with httpx.Client(base_url=server_without_database, timeout=10) as client:
        ofrep = client.post(
            "/ofrep/v1/evaluate/flags/checkout", json={"context": {"targetingKey": "u"}}, headers=BEARER
        )
        unleash = client.get("/api/client/features", headers=BEARER)
        api = client.get("/api/v1/migrations", headers=BEARER)
        page = client.get("/migrations/", cookies={"sessionid": "a-session-golive-cannot-look-up"})
    for response in (ofrep, unleash, api, page):
        assert response.status_code == 503, (response.request.url, response.text[:300])
        assert response.headers["Retry-After"] == "5"
        assert "Traceback" not in response.text
    assert ofrep.json()["errorCode"] == "GENERAL" and "database" in ofrep.json()["errorDetails"]
    assert "cannot reach its database" in unleash.json()["error"]
    assert api.json() == {
        "detail": "golive cannot reach its database right now; nothing was changed. Retry in 5 seconds."
    }
    assert "golive cannot reach its database" in page.text
