"""The embedded broker used when no Redis is configured: kombu's SQLAlchemy transport on SQLite.

It polls the database for messages. kombu's default poll of 1 s caps a worker at one task per
second per slot, and its `polling_interval` transport option cannot be set for this transport
(it is passed on to SQLAlchemy's create_engine, which rejects it), hence this subclass."""

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport


class Transport(SQLAlchemyTransport):
    polling_interval = 0.05


TRANSPORT_ALIASES.setdefault("golivesql", "golive_site.broker:Transport")
