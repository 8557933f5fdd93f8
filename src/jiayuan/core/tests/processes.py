"""Running `jiayuan` in a child process, isolated from the test database and the
developer's own data."""

import os
import subprocess
import sys
from pathlib import Path

JIAYUAN = [sys.executable, "-m", "jiayuan.cli"]
# The project's settings, and what test fixtures set for their own process (the browser
# tests allow async-unsafe ORM calls, which the deploy check rightly refuses).
_NOT_INHERITED = {
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DATABASE_URL",
    "SECRET_KEY",
    "DEBUG",
    "HTTPS",
    "BEHIND_PROXY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "MEDIA_STORAGE",
    "TASK_BACKEND",
}


def isolated_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a fresh laptop: SQLite in `data_dir`, no inherited secrets or
    database, plus `overrides`."""
    env = {name: value for name, value in os.environ.items() if name not in _NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="jiayuan.settings",
        JIAYUAN_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def run_jiayuan(args: list[str], env: dict[str, str], timeout: float = 120):
    return subprocess.run(  # noqa: S603
        [*JIAYUAN, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
