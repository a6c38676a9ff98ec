"""A web process imports no tasks module of its own, yet it hands work to Celery: the outbox's
delivery, each pushed batch's guardrail evaluation and the channel sender are wired from the apps'
ready(). Checked in a fresh process, as gunicorn starts, not in this one (the tests import every
tasks module, which would hide a missing link)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django, json
django.setup()
from migrations_app.monitoring import batches
from migrations_app.rollout import outbox
print(json.dumps({
    "evaluation": getattr(batches._publisher.task, "name", None),
    "delivery": getattr(outbox._publisher.task, "name", None),
    "senders": sorted(outbox.SENDERS),
}))
"""


def test_a_fresh_web_process_can_publish_evaluations_deliveries_and_channel_messages():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "golive_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    wiring = json.loads(result.stdout.strip().splitlines()[-1])
    assert wiring["evaluation"] == "migrations_app.monitoring.tasks.evaluate_metric_guardrails"
    assert wiring["delivery"] == "migrations_app.rollout.tasks.deliver_outbox_message"
    assert wiring["senders"] == ["channel", "email", "webhook"]
