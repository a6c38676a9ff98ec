"""30 concurrent rollback requests (the button and the API, against gunicorn) make exactly one rollback."""

import threading

import httpx
import pytest
from django.contrib.auth import get_user_model

from migrations_app.incidents.models import Incident
from migrations_app.models import AuditEvent, MigrationStatus
from migrations_app.rollout.models import Rollback, TrafficChange
from tests.factories import make_user, put_live
from tests.processes import logged_in_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_30_concurrent_rollbacks_make_exactly_one(golive_server, migration, oncall, oncall_operate_token):
    put_live(migration, 50)
    others = [make_user(f"oncall-{n}", groups=("On-call",)) for n in range(4)]
    browsers = [logged_in_client(golive_server.url, user.username) for user in [oncall, *others]]
    csrf = {id(b): b.cookies["csrftoken"] for b in browsers}
    start = threading.Barrier(30)
    results: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def click(n):
        browser = browsers[n % len(browsers)]
        start.wait()
        response = browser.post(
            "/migrations/card-payments/rollback/",
            data={"reason": f"click {n}"},
            headers={"HX-Request": "true", "X-CSRFToken": csrf[id(browser)]},
        )
        with lock:
            results.append(("button", response.status_code, response.text))

    def call_api(n):
        start.wait()
        response = httpx.post(
            f"{golive_server.url}/api/v1/migrations/card-payments/rollback",
            json={"reason": f"pipeline {n}"},
            headers={"Authorization": f"Bearer {oncall_operate_token}"},
            timeout=30,
        )
        with lock:
            results.append(("api", response.status_code, response.text))

    threads = [threading.Thread(target=click if n % 2 else call_api, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == 30
    assert {status for _, status, _ in results} == {200}, [r for r in results if r[1] != 200][:2]
    assert Rollback.objects.count() == 1
    rollback = Rollback.objects.get()
    assert TrafficChange.objects.filter(kind="rollback").count() == 1
    assert Incident.objects.count() == 1
    assert AuditEvent.objects.filter(action="rollback.created").count() == 1
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.ROLLED_BACK
    already = f"Already rolled back at {rollback.at:%H:%M} by {rollback.by}."
    told = [text for _, _, text in results if already in text.replace("&#x27;", "'")]
    assert len(told) == 29
    assert get_user_model().objects.filter(username__startswith="oncall").count() == 5
