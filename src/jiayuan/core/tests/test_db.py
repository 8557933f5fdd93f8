"""PostgreSQL connections (core.db): prepared statements only where a hot path asks for
them (decisions §29), and times read by psycopg's compiled parser (decisions §33)."""

import datetime as dt
import zoneinfo

import psycopg
import pytest
from django.db import connection, connections

from jiayuan.core.db import prepared_statements, read_times_in_c
from jiayuan.core.models import AuditEvent
from jiayuan.org.models import Company

pytestmark = pytest.mark.django_db


def prepared_on_the_server() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


def run_a_lookup(times: int) -> None:
    for n in range(times):
        assert not Company.objects.filter(pk=-n).exists()


def test_a_repeated_statement_is_prepared_inside_and_never_outside(settings):
    settings.PREPARED_STATEMENTS_AFTER = 2
    if connection.vendor != "postgresql":  # SQLite: nothing to prepare, nothing changes
        with prepared_statements():
            run_a_lookup(5)
        assert connection.vendor == "sqlite"
        return
    before = prepared_on_the_server()
    run_a_lookup(5)
    assert prepared_on_the_server() == before
    with prepared_statements():
        run_a_lookup(5)
        assert prepared_on_the_server() == before + 1
    assert connection.connection.prepare_threshold is None
    # Outside again, the same statement goes unprepared (and its prepared twin is unused).
    run_a_lookup(5)
    assert prepared_on_the_server() == before + 1


def test_zero_turns_preparing_off(settings):
    settings.PREPARED_STATEMENTS_AFTER = 0
    with prepared_statements():
        run_a_lookup(5)
        if connection.vendor == "postgresql":
            assert connection.connection.prepare_threshold is None
            assert prepared_on_the_server() == 0


def test_the_threshold_is_put_back_when_the_path_fails(settings):
    settings.PREPARED_STATEMENTS_AFTER = 2
    with pytest.raises(ZeroDivisionError), prepared_statements():
        run_a_lookup(1)
        _ = 1 / 0
    if connection.vendor == "postgresql":
        assert connection.connection.prepare_threshold is None
    else:
        assert connection.vendor == "sqlite"


# ----------------------------------------------------------------------------- times read in C


TIMES = [
    dt.datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=dt.UTC),
    dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 8, 1, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),
    dt.datetime(2026, 3, 29, 1, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
]


def test_times_come_back_the_same_instant_in_utc():
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        # The stand-in is what the connection hands out, and what it makes is compiled.
        loader = connection.connection.adapters.get_loader(
            psycopg.adapters.types["timestamptz"].oid, psycopg.pq.Format.TEXT
        )
        assert loader.__name__ == "UtcTimestamptzLoader" and loader.timezone is dt.UTC
        made = loader(psycopg.adapters.types["timestamptz"].oid, connection.connection)
        assert type(made).__module__ in ("psycopg_binary._psycopg", "psycopg_c._psycopg")
    events = [
        AuditEvent.objects.create(code="test.time", target_label=str(n), at=at)
        for n, at in enumerate(TIMES)
    ]
    read = dict(AuditEvent.objects.filter(pk__in=[e.pk for e in events]).values_list("pk", "at"))
    for event, at in zip(events, TIMES, strict=True):
        assert read[event.pk] == at
        assert read[event.pk].tzinfo is dt.UTC
        assert read[event.pk].utcoffset() == dt.timedelta(0)


def test_the_compiled_reader_is_left_out_when_the_zones_differ(monkeypatch):
    """Another database zone than UTC: Django's own reader stays."""
    if connection.vendor != "postgresql":
        read_times_in_c(sender=None, connection=connection)  # not PostgreSQL: nothing to do
        assert connection.vendor == "sqlite"
        return
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    wrapper = connections["default"]
    wrapper.ensure_connection()
    session = wrapper.connection
    oid = psycopg.adapters.types["timestamptz"].oid
    register_tzloader(wrapper.timezone, session)  # Django's, as before the receiver ran
    monkeypatch.setattr(wrapper, "timezone", zoneinfo.ZoneInfo("Asia/Shanghai"))
    read_times_in_c(sender=None, connection=wrapper)
    loader = session.adapters.get_loader(oid, psycopg.pq.Format.TEXT)
    assert loader.__name__ == "SpecificTzLoader"
    monkeypatch.undo()
    read_times_in_c(sender=None, connection=wrapper)
    loader = session.adapters.get_loader(oid, psycopg.pq.Format.TEXT)
    assert loader.__name__ == "UtcTimestamptzLoader"
