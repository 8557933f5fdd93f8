import sqlite3

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections


@pytest.fixture(autouse=True, scope="session")
def _no_duplicate_matching():
    """The suites' many identical made-up reports would join one another at intake
    (servicedesk.incidents); test_incidents turns matching on for itself. Session-wide,
    so module-scoped fixtures that make requests see it too."""
    from django.conf import settings

    settings.SERVICEDESK_MATCH_DUPLICATES = False
    yield
    del settings.SERVICEDESK_MATCH_DUPLICATES


@pytest.fixture(autouse=True)
def _no_remembered_settings():
    """Each case reads policies, calendars and rules afresh (core.memo): ids repeat from
    one case to the next when the database is rolled back."""
    from jiayuan.core import memo

    memo.forget_all()
    yield
    memo.forget_all()


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    # Argon2 is deliberately slow; tests that check hashing switch it back.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LANGUAGE_CODE = "zh-hans"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def empty_data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("no-model")


@pytest.fixture(autouse=True)
def _no_saved_model(settings, empty_data_dir):
    """No triage model unless a test asks for one (`triage_model`): one left in ./var by a
    developer's own run must not change what the suites see."""
    settings.DATA_DIR = empty_data_dir


@pytest.fixture(scope="session")
def trained_data_dir(tmp_path_factory):
    """A data folder holding a model trained on the small test corpus (trained once)."""
    from jiayuan.triage import services
    from jiayuan.triage.tests.fixtures import write_corpus

    folder = tmp_path_factory.mktemp("data")
    corpus_file = write_corpus(folder / "corpus.jsonl")
    services.model_retrain(corpus_path=corpus_file, model_path=folder / "triage" / "model.npz")
    return folder


@pytest.fixture
def triage_model(settings, trained_data_dir):
    """The model the pages, the API and intake use is the test corpus' one."""
    settings.DATA_DIR = trained_data_dir
    return trained_data_dir / "triage" / "model.npz"


@pytest.fixture
def personas(db):
    from jiayuan.core.testing import build_personas

    return build_personas()


@pytest.fixture
def file_database(transactional_db, tmp_path):
    """On SQLite, run the test on a file database, as the application does.

    The test database is an in-memory one in shared-cache mode, where a second writer
    fails at once with "database table is locked" instead of waiting for the first as
    the settings' IMMEDIATE transactions and busy timeout make it wait on a file. Its
    schema is copied to a file and every connection of this test (each thread's too)
    opens that file, which processes the test starts can open too; the in-memory
    database is left untouched for the other tests."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    memory = connections[DEFAULT_DB_ALIAS]
    memory.ensure_connection()
    target = sqlite3.connect(tmp_path / "database.sqlite3")
    memory.connection.backup(target)
    target.close()
    memory_settings = connections.settings[DEFAULT_DB_ALIAS]
    connections.settings[DEFAULT_DB_ALIAS] = {
        **memory_settings,
        "NAME": str(tmp_path / "database.sqlite3"),
    }
    connections[DEFAULT_DB_ALIAS] = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS].close()
        connections.settings[DEFAULT_DB_ALIAS] = memory_settings
        # Not closed: closing the last connection would drop the in-memory database.
        connections[DEFAULT_DB_ALIAS] = memory
