"""How a hot path asks PostgreSQL for prepared statements (decisions §29)."""

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
