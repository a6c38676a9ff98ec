"""One asyncio event loop per worker process, in a background thread, where every probe call runs.

Celery tasks and Django stay synchronous: they hand coroutines to this loop and wait for the
answers. The loop (and the HTTP connection pool living on it) outlives a task, so keep-alive
connections are reused from one batch to the next. A forked process (Celery's prefork pool)
starts its own loop: a thread does not survive a fork."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_owner_pid = 0


def get() -> asyncio.AbstractEventLoop:
    global _loop, _owner_pid
    with _lock:
        if _loop is None or _owner_pid != os.getpid():
            _loop, _owner_pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(target=_loop.run_forever, name="probe-loop", daemon=True).start()
        return _loop


def submit(coro: Coroutine) -> concurrent.futures.Future:
    return asyncio.run_coroutine_threadsafe(coro, get())


def call(coro: Coroutine):
    """Run `coro` on the probe loop and wait for its result (the caller's deadline is inside it)."""
    return submit(coro).result()
