"""How the flag APIs' in-process caches (flag snapshot, token list) live through a database outage.

Applications ask for flags many times a second and must keep getting answers while PostgreSQL
restarts or fails over. A cache whose timed refresh fails keeps serving its last good copy,
tries again after RETRY_SECONDS (not on every request: each attempt may wait for a connect
timeout), logs the first failure of an outage and the recovery once each, and says on /health
how stale it is."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("golive.flags")

RETRY_SECONDS = 1.0


class RefreshState:
    """Failures of one cache's refresh: since when, how many, and when to try again."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self.failing_since: float | None = None
        self.failures = 0
        self.last_error = ""
        self.retry_at = 0.0

    def may_retry(self, now: float) -> bool:
        return self.failing_since is None or now >= self.retry_at

    def failed(self, error: Exception, now: float) -> None:
        with self._lock:
            first = self.failing_since is None
            if first:
                self.failing_since = now
            self.failures += 1
            self.last_error = type(error).__name__
            self.retry_at = now + RETRY_SECONDS
        if first:
            log.warning(
                "%s: refresh failed (%s); serving the last good copy, retrying every %.0f s",
                self.name,
                self.last_error,
                RETRY_SECONDS,
            )

    def succeeded(self, now: float) -> None:
        if self.failing_since is None:
            return
        with self._lock:
            since, failures = self.failing_since, self.failures
            self.failing_since, self.failures, self.last_error = None, 0, ""
        if since is not None:
            log.warning(
                "%s: refreshed again after %.1f s and %d failed attempts", self.name, now - since, failures
            )

    def status(self) -> dict:
        """What /health shows: ok, or stale with how long and why."""
        if self.failing_since is None:
            return {"status": "ok"}
        return {
            "status": "stale",
            "stale_seconds": round(time.monotonic() - self.failing_since, 1),
            "failed_refreshes": self.failures,
            "error": self.last_error,
        }
