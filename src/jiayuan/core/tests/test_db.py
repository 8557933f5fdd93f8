"""PostgreSQL connections (core.db): prepared statements only where a hot path asks for
them (decisions §29), times read by psycopg's compiled parser (decisions §33), and small
batches inserted as VALUES (core.postgresql, decisions §38), and models read by written-out
statements."""

import datetime as dt
import zoneinfo

import psycopg
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from jiayuan.core.db import columns_of, models_read, prepared_statements, read_times_in_c
from jiayuan.core.models import AuditEvent
from jiayuan.core.postgresql.compiler import UNNEST_FROM_ROWS
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


# ----------------------------------------------------------------------------- small batches


@pytest.mark.parametrize(
    "rows, unnest",
    [(2, False), (UNNEST_FROM_ROWS - 1, False), (UNNEST_FROM_ROWS, True), (40, True)],
)
def test_a_batch_of_a_few_rows_is_inserted_as_values_and_a_larger_one_as_arrays(rows, unnest):
    """Decisions §38: both ways store the same rows; only PostgreSQL has the arrays."""
    made = [
        AuditEvent(code="test.batch", target_label=f"<b>{n}</b>'", at=TIMES[n % len(TIMES)])
        for n in range(rows)
    ]
    with CaptureQueriesContext(connection) as queries:
        AuditEvent.objects.bulk_create(made)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert ("UNNEST(" in inserts[0]) == (unnest and connection.vendor == "postgresql")
    stored = AuditEvent.objects.filter(code="test.batch").order_by("pk")
    assert [(e.target_label, e.at) for e in stored] == [(e.target_label, e.at) for e in made]
    assert [e.pk for e in stored] == [e.pk for e in made]


# ----------------------------------------------------------------------------- written-out reads


def test_a_written_out_read_gives_what_the_orm_gives_with_its_extra_columns():
    events = [
        AuditEvent.objects.create(
            code="test.read", target_label=f"<script>{n}</script>", at=at, before={"n": n}
        )
        for n, at in enumerate(TIMES)
    ]
    table = AuditEvent._meta.db_table
    sql = (
        f"SELECT {columns_of(AuditEvent, 'a')}, a.id * 2, upper(a.code) "  # noqa: S608
        f"FROM {table} a WHERE a.code = %s ORDER BY a.id"
    )
    read = models_read(AuditEvent, sql, ["test.read"], extras=("doubled", "shouted"))
    assert [e.pk for e in read] == [e.pk for e in events]
    orms_read = AuditEvent.objects.filter(code="test.read").order_by("pk")
    for mine, orms in zip(read, orms_read, strict=True):
        # Converted as the ORM converts: times (text on SQLite) and JSON come back the same.
        for field in AuditEvent._meta.concrete_fields:
            assert getattr(mine, field.attname) == getattr(orms, field.attname), field.name
        assert mine.at.tzinfo is not None and mine.before == orms.before
        assert (mine.doubled, mine.shouted) == (mine.pk * 2, "TEST.READ")
        assert not mine._state.adding and mine._state.db == "default"


def test_a_written_out_read_of_some_fields_defers_the_others():
    event = AuditEvent.objects.create(code="test.some", target_label="label")
    sql = f"SELECT {columns_of(AuditEvent, 'a', ['code', 'id'])} FROM {AuditEvent._meta.db_table} a"  # noqa: S608
    (read,) = models_read(AuditEvent, sql + " WHERE a.id = %s", [event.pk], fields=["code", "id"])
    assert read.get_deferred_fields() == {
        f.attname for f in AuditEvent._meta.concrete_fields if f.attname not in ("id", "code")
    }
    assert (read.pk, read.code) == (event.pk, "test.some")
    assert read.target_label == "label"  # a deferred field is read when asked for
    assert models_read(AuditEvent, sql + " WHERE a.id = %s", [-1], fields=["code", "id"]) == []


def test_a_written_out_read_refuses_a_field_the_model_has_not():
    with pytest.raises(ValueError, match="no column for"):
        columns_of(AuditEvent, "a", ["code", "shoe_size"])
    sql = f"SELECT a.id FROM {AuditEvent._meta.db_table} a"  # noqa: S608
    with pytest.raises(ValueError, match="no column for"):
        models_read(AuditEvent, sql, [], fields=["id", "shoe_size"])


def test_extra_columns_must_match_the_statement():
    AuditEvent.objects.create(code="test.extra")
    sql = f"SELECT {columns_of(AuditEvent, 'a')}, 1 FROM {AuditEvent._meta.db_table} a"  # noqa: S608
    with pytest.raises(ValueError):
        models_read(AuditEvent, sql, [], extras=("one", "two"))


def test_the_batch_benchmark_times_both_ways_and_puts_the_rule_back():
    from jiayuan.core.postgresql import compiler
    from jiayuan.core.testing import load_bench

    lines = load_bench("insert_batches").run((2, UNNEST_FROM_ROWS), rows_per_size=6)
    assert [line["rows"] for line in lines] == [2, UNNEST_FROM_ROWS]
    for line in lines:
        assert all(
            line[f"{way} {what}"] > 0 for way in ("UNNEST", "VALUES") for what in ("cpu", "wall")
        )
    assert compiler.UNNEST_FROM_ROWS == UNNEST_FROM_ROWS
    assert not AuditEvent.objects.filter(code="bench.batch").exists()  # every batch rolled back
