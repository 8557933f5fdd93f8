"""PostgreSQL connections: prepared statements on the hot paths (decisions §29), times read
by psycopg's compiled parser (decisions §33); and models read by written-out statements
(decisions §28, §38)."""

import datetime
import functools
from collections.abc import Sequence
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.db.models import Model


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


# ----------------------------------------------------------------------------- written-out reads


def columns_of(model: type[Model], alias: str, fields: Sequence[str] | None = None) -> str:
    """The select list of `model`'s columns (all, or those of the named fields) under the
    table alias, in the order models_read() expects them."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in _fields_read(model, fields))


def models_read(
    model: type[Model],
    sql: str,
    params: Sequence,
    *,
    fields: Sequence[str] | None = None,
    extras: Sequence[str] = (),
) -> list[Model]:
    """One instance of `model` per row of a written-out SELECT whose columns are
    columns_of(model, …, fields) followed by one column per name in `extras`, set on the
    instance as it comes (as Model.objects.raw() sets extra columns). Fields not read are
    deferred.

    Model.objects.raw() maps the columns to fields by name on every call, from a description
    psycopg builds column by column: a third of the cost of the sign-in's one-row read. Here
    the order is known when the statement is written."""
    names, converters = _reading_plan(model, None if fields is None else tuple(fields))
    width = len(names)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    db = connection.alias
    made = []
    for row in rows:
        values = list(row[:width])
        for index, steps, column in converters:
            for step in steps:
                values[index] = step(values[index], column, connection)
        instance = model.from_db(db, names, values)
        for name, value in zip(extras, row[width:], strict=True):
            setattr(instance, name, value)
        made.append(instance)
    return made


def _fields_read(model: type[Model], fields: Sequence[str] | None) -> list:
    concrete = model._meta.concrete_fields
    if fields is None:
        return list(concrete)
    unknown = set(fields) - {field.attname for field in concrete}
    if unknown:
        raise ValueError(f"{model.__name__} has no column for {sorted(unknown)}")
    return [field for field in concrete if field.attname in fields]


@functools.cache
def _reading_plan(model: type[Model], fields: tuple[str, ...] | None) -> tuple[list, list]:
    """The attnames read, in order, and (position, steps, column) for each column the
    backend or the field turns into its Python value (SQLite's times and booleans, for
    one), as the ORM's compiler does. Kept per process: the steps read only the database's
    settings, the same on every thread's connection."""
    read = _fields_read(model, fields)
    converters = []
    for index, field in enumerate(read):
        column = field.get_col(model._meta.db_table)
        steps = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if steps:
            converters.append((index, steps, column))
    return [field.attname for field in read], converters
