"""Publishing a Celery task after commit, never raising (the outbox's deliveries, each pushed
batch's evaluation).

The task is handed in from an AppConfig.ready, so the module that publishes never imports the
tasks module that imports it (docs/architecture.md). When the broker is down a publish fails
quietly and the next ones are skipped for a while: the rows are committed, and the caller's
safety net (the outbox's dispatcher, beat) finds them when it returns."""

import logging
import time

QUIET_SECONDS = 10  # after a failed publish, skip publishing for this long


class QuietPublisher:
    def __init__(self, *, log: logging.Logger, prefix: str, fallback: str):
        self._log, self._prefix, self._fallback = log, prefix, fallback
        self.task = None  # the Celery task, once an AppConfig.ready has handed it in
        self._quiet_until = 0.0

    def use(self, task) -> None:
        self.task = task

    def publish(self, calls: list[dict], *, subject: object) -> bool:
        """Enqueue one task per kwargs in `calls`; False (and nothing raised) if it could not."""
        if self.task is None or time.monotonic() < self._quiet_until:
            return False
        try:
            for kwargs in calls:
                self.task.apply_async(kwargs=kwargs, retry=False)
        except Exception as error:  # broker down or unreachable: the safety net delivers later
            self._quiet_until = time.monotonic() + QUIET_SECONDS
            self._log.warning(
                "%s: could not publish %s (%s); %s", self._prefix, subject, error, self._fallback
            )
            return False
        return True
