"""Prepared statements only where a hot path asks for them (core.db, decisions §29)."""

import pytest
from django.db import connection

from jiayuan.core.db import prepared_statements
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
