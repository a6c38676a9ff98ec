"""A body over the limit, sent to a real gunicorn: 413 with a sentence in each endpoint's shape,
answered before the body is read, and the client's next request on the same connection works."""

import httpx
import pytest

from tests.rollout.conftest import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

BIG = b'{"samples": "' + b"x" * (3 * 1024 * 1024) + b'"}'  # 3 MiB: past both limits
SHAPES = {
    "/ofrep/v1/evaluate/flags/checkout": lambda body: (
        body["errorCode"] == "PARSE_ERROR" and body["key"] == "checkout"
    ),
    "/api/client/metrics": lambda body: body["field"] == "body",
    "/api/v1/migrations/checkout/samples": lambda body: body["detail"][0]["field"] == "body",
}


def test_an_oversized_body_answers_413_and_the_connection_stays_usable(tmp_path):
    with gunicorn(tmp_path) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        for url, shape in SHAPES.items():
            response = client.post(url, content=BIG, headers={"Content-Type": "application/json"})
            assert response.status_code == 413, (url, response.text[:200])
            assert "larger than 1,048,576 bytes" in response.text and shape(response.json()), url
            assert client.get("/health").status_code == 200  # the next request is understood
        page = client.post("/migrations/new/", content=BIG, headers={"Content-Type": "text/plain"})
        assert page.status_code == 413
        assert page.text.startswith("The body is larger than 2,621,440 bytes")
