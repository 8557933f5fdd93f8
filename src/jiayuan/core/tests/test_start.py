"""`jiayuan start` really starts: a web server answering /healthz, a task worker and a
scheduler, in one process group that stops together."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jiayuan.accounts.models import User
from jiayuan.core.tests.processes import JIAYUAN, isolated_env, run_jiayuan
from jiayuan.org.models import Company

# Waiting for a process to come up (migrations on a fresh database), not for time to pass.
STARTUP_LIMIT_SECONDS = 60
CHILDREN = {"web server": "waitress", "task worker": "jiayuan.cli worker", "scheduler": "scheduler"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


class Started:
    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.log = tmp_path / "start.log"
        env = isolated_env(tmp_path / "data", TASK_BACKEND="database")
        with self.log.open("w") as log:
            # Its own session, so that signals in this test reach only what it started.
            self.process = subprocess.Popen(  # noqa: S603
                [*JIAYUAN, "start", "--port", str(self.port), "--no-demo"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
            time.sleep(0.2)
        pytest.fail(f"no answer from {url} within {STARTUP_LIMIT_SECONDS} s:\n{self.output}")

    def children(self) -> dict[str, int]:
        found = re.findall(
            r"^\s+(web server|task worker|scheduler)\s+pid (\d+)$", self.output, re.M
        )
        return {name: int(pid) for name, pid in found}

    def stop_everything(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def started(tmp_path):
    process = Started(tmp_path)
    try:
        yield process
    finally:
        process.stop_everything()


def test_start_runs_web_worker_and_scheduler_and_ctrl_c_stops_them_all(started):
    started.wait_until_healthy()
    children = started.children()
    assert set(children) == set(CHILDREN)
    for name, pid in children.items():
        assert is_running(pid)
        assert CHILDREN[name] in command_line(pid)
    assert f"http://127.0.0.1:{started.port}/" in started.output

    started.process.send_signal(signal.SIGINT)

    assert started.process.wait(timeout=30) == 0, started.output
    assert "Stopped." in started.output
    for pid in children.values():
        assert not is_running(pid)


def test_when_one_child_dies_start_stops_the_others_and_fails(started):
    started.wait_until_healthy()
    children = started.children()

    os.kill(children["scheduler"], signal.SIGKILL)

    assert started.process.wait(timeout=30) == 1
    assert "The scheduler stopped unexpectedly" in started.output
    for pid in children.values():
        assert not is_running(pid)


def test_start_refuses_a_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_jiayuan(["start", "--port", str(port)], isolated_env(tmp_path))
    assert result.returncode == 1
    assert "Choose another port" in result.stderr
    assert not (tmp_path / "jiayuan.sqlite3").exists()


@pytest.mark.parametrize("port", ["http", "0", "70000"])
def test_start_refuses_a_bad_port(tmp_path, port):
    result = run_jiayuan(["start", "--port", port], isolated_env(tmp_path))
    assert result.returncode == 2
    assert "--port" in result.stderr


@pytest.mark.django_db
def test_start_explains_a_demo_that_cannot_be_built(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    User.objects.create(username="demo_admin", name="someone already here")
    with pytest.raises(CommandError, match="--no-demo"):
        call_command("start", "--port", str(free_port()), stdout=StringIO())
    assert not Company.objects.exists()
