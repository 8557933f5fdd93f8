"""PostgreSQL connections: prepared statements on the hot paths (decisions §29), and times
read by psycopg's compiled parser (decisions §33)."""

import datetime
import functools
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


@contextmanager
def prepared_statements():
    """Statements run inside are prepared on the connection once they have run
    PREPARED_STATEMENTS_AFTER times there, and PostgreSQL may then keep a generic plan for
    them: parsed and planned once, not on every call. Only for paths of point lookups and
    inserts, whose best plan does not depend on the values; a list filtered by skewed values
    can run many times slower on a generic plan, so elsewhere nothing is prepared."""
    after = settings.PREPARED_STATEMENTS_AFTER
    if connection.vendor != "postgresql" or not after:
        yield
        return
    connection.ensure_connection()
    psycopg_connection = connection.connection
    psycopg_connection.prepare_threshold = after
    try:
        yield
    finally:
        psycopg_connection.prepare_threshold = None


def read_times_in_c(sender, connection, **kwargs) -> None:
    """On a new PostgreSQL connection, let psycopg's compiled parser read `timestamptz`
    values (connection_created's receiver).

    Django reads them with a Python subclass of psycopg's parser, only to stamp each value
    with its own time zone: about 5 µs a value against 0.3, and a list of 50 requests holds
    some 400. The compiled parser stamps a value with the session's zone; Django has set the
    session to UTC, its own zone too with USE_TZ, so the values come out the same. Left as
    it is when the zones differ or psycopg has no compiled parser."""
    if connection.vendor != "postgresql":
        return
    from psycopg import pq

    session = connection.connection
    if (
        pq.__impl__ == "python"
        or connection.timezone is not datetime.UTC
        or session.info.timezone is not datetime.UTC
    ):
        return
    session.adapters.register_loader("timestamptz", _compiled_utc_loader())


@functools.cache
def _compiled_utc_loader() -> type:
    """The compiled parser's class cannot be subclassed; this stands in for it where psycopg
    looks a loader up and where Django checks the zone a loader stamps (`timezone`), and
    makes the compiled parser when psycopg asks for one."""
    import psycopg
    from psycopg import pq

    # psycopg's own map hands out the compiled class in place of its Python one.
    compiled = psycopg.adapters.get_loader(
        psycopg.adapters.types["timestamptz"].oid, pq.Format.TEXT
    )

    class UtcTimestamptzLoader:
        format = compiled.format
        timezone = datetime.UTC

        def __new__(cls, oid, context=None):
            return compiled(oid, context)

    return UtcTimestamptzLoader
