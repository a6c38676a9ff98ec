"""/metrics while golive's database is unreachable: 503 with a sentence and Retry-After, which
Prometheus records as the target being down (up == 0), never a 500 or a traceback."""

import httpx

from tests.reliability.test_database_unreachable import BEARER, server_without_database

__all__ = ["server_without_database"]  # the fixture: a gunicorn whose database port is dead


def test_a_scrape_answers_503_while_the_database_is_unreachable(server_without_database):
    response = httpx.get(f"{server_without_database}/metrics", headers=BEARER, timeout=10)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "golive cannot reach its database" in response.text and "Traceback" not in response.text
