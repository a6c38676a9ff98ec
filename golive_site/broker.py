"""The embedded broker used when no Redis is configured: kombu's SQLAlchemy transport on SQLite.

It polls the database for messages. kombu's default poll of 1 s caps a worker at one task per
second per slot, and its `polling_interval` transport option cannot be set for this transport
(it is passed on to SQLAlchemy's create_engine, which rejects it), hence this subclass."""

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport


class Transport(SQLAlchemyTransport):
    polling_interval = 0.05
    # Celery's worker loop for polling transports notices a shutdown only between two waits for
    # messages, and asks each to wait up to 2 s: Ctrl-C on `make run` took 4-7 s, past honcho's
    # 5 s before it kills. Shorter waits cost nothing: the poll runs every 50 ms either way.
    max_wait_seconds = 0.25

    def drain_events(self, connection, timeout=None):
        if timeout is not None:
            timeout = min(timeout, self.max_wait_seconds)
        return super().drain_events(connection, timeout=timeout)


TRANSPORT_ALIASES.setdefault("golivesql", "golive_site.broker:Transport")
