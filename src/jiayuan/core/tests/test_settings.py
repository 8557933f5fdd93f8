import secrets
import stat
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from jiayuan.core.tests.processes import isolated_env, run_jiayuan
from jiayuan.settings import env_bool, env_int, env_list

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
    "HTTPS": "true",
    "ALLOWED_HOSTS": "example.com",
}


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on"])
def test_env_bool_reads_true(monkeypatch, raw):
    monkeypatch.setenv("JIAYUAN_TEST_FLAG", raw)
    assert env_bool("JIAYUAN_TEST_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off"])
def test_env_bool_reads_false(monkeypatch, raw):
    monkeypatch.setenv("JIAYUAN_TEST_FLAG", raw)
    assert env_bool("JIAYUAN_TEST_FLAG", True) is False


@pytest.mark.parametrize("raw", ["x", "maybe", "2", "tru"])
def test_env_bool_rejects_anything_else(monkeypatch, raw):
    monkeypatch.setenv("JIAYUAN_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="JIAYUAN_TEST_FLAG"):
        env_bool("JIAYUAN_TEST_FLAG", False)


def test_empty_or_missing_values_take_the_default(monkeypatch):
    monkeypatch.delenv("JIAYUAN_TEST_VALUE", raising=False)
    assert env_bool("JIAYUAN_TEST_VALUE", True) is True
    assert env_int("JIAYUAN_TEST_VALUE", 7) == 7
    assert env_list("JIAYUAN_TEST_VALUE", ["a"]) == ["a"]
    monkeypatch.setenv("JIAYUAN_TEST_VALUE", "  ")
    assert env_bool("JIAYUAN_TEST_VALUE", False) is False
    assert env_int("JIAYUAN_TEST_VALUE", 7) == 7


@pytest.mark.parametrize("raw", ["ten", "1.5", "0x10"])
def test_env_int_rejects_non_integers(monkeypatch, raw):
    monkeypatch.setenv("JIAYUAN_TEST_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("JIAYUAN_TEST_NUMBER", 1)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("JIAYUAN_TEST_HOSTS", " a.example, ,b.example ,")
    assert env_list("JIAYUAN_TEST_HOSTS", []) == ["a.example", "b.example"]


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run_jiayuan(
        ["check", "--deploy", "--fail-level", "WARNING"], isolated_env(tmp_path, **PRODUCTION)
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_without_https(tmp_path):
    env = isolated_env(tmp_path, **{**PRODUCTION, "HTTPS": "false"})
    result = run_jiayuan(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "perhaps", "DEBUG must be true or false"),
        ("HTTPS", "yes please", "HTTPS must be true or false"),
        ("SESSION_COOKIE_AGE", "two weeks", "SESSION_COOKIE_AGE must be a whole number"),
        ("TASK_BACKEND", "celery", "TASK_BACKEND must be one of"),
        ("MEDIA_STORAGE", "ftp", "MEDIA_STORAGE must be local or s3"),
        ("WORKER_HEARTBEAT_SECONDS", "30", "at least three times WORKER_HEARTBEAT_SECONDS"),
        ("TASK_MAX_ATTEMPTS", "0", "TASK_MAX_ATTEMPTS must be at least 1"),
    ],
)
def test_a_bad_setting_stops_the_start_with_its_name(tmp_path, name, value, message):
    result = run_jiayuan(["check"], isolated_env(tmp_path, **{name: value}))
    assert result.returncode != 0
    assert message in result.stderr


def test_a_laptop_keeps_one_generated_secret_key_private_to_its_owner(tmp_path):
    show_key = ["shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)"]
    first = run_jiayuan(show_key, isolated_env(tmp_path))
    second = run_jiayuan(show_key, isolated_env(tmp_path))
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip().splitlines()[-1]
    assert len(key) >= 50
    assert second.stdout.strip().splitlines()[-1] == key
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    explicit = run_jiayuan(show_key, isolated_env(tmp_path, SECRET_KEY="x" * 60))
    assert explicit.stdout.strip().splitlines()[-1] == "x" * 60


def test_database_url_selects_postgresql(tmp_path):
    show_engine = [
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])",
    ]
    env = isolated_env(tmp_path, DATABASE_URL="postgres://someone@db.example:5432/jiayuan")
    result = run_jiayuan(show_engine, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "jiayuan.core.postgresql"


def test_the_web_server_freezes_what_start_up_made(tmp_path):
    """The views and API modules the URL conf imports are frozen too: the first request
    leaves next to nothing of start-up for a full collection to walk."""
    show_frozen = (
        "import gc; before = gc.get_freeze_count(); import jiayuan.wsgi; "
        "from django.urls import get_resolver; get_resolver().url_patterns; "
        "print(before, gc.get_freeze_count() > 10_000, len(gc.get_objects()) < 5_000)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", show_frozen],
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "True", "True"]
