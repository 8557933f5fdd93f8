"""A worker that dies mid-task loses nothing: its task is queued again for another worker
(or failed after TASK_MAX_ATTEMPTS deaths), once, however many workers recover at once.
The last test kills a real worker process with SIGKILL on the suite's database."""

import logging
import os
import signal
import subprocess
import time
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiayuan.core.models import WorkerHeartbeat
from jiayuan.core.tests.processes import JIAYUAN, isolated_env
from jiayuan.core.workers import (
    WORKER_LOST,
    Heartbeat,
    WorkerLost,
    beat,
    find_lost_tasks,
    on_abandon,
    recover,
    recover_lost_tasks,
)

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
abandoned_with: list[tuple] = []


@task()
def some_job(*args, **kwargs) -> None:
    """Stands for any task; the recovery never runs it."""


@task()
def job_with_cleanup(job_id: int) -> None:
    """A task that marks something "in progress", like an import job."""


@on_abandon(job_with_cleanup)
def job_with_cleanup_abandoned(job_id: int) -> None:
    abandoned_with.append((job_id,))


@task()
def job_with_failing_cleanup(job_id: int) -> None:
    """Its cleanup fails (say, the database refuses it for a moment)."""


@on_abandon(job_with_failing_cleanup)
def job_with_failing_cleanup_abandoned(job_id: int) -> None:
    raise RuntimeError("cleanup refused")


@pytest.fixture
def queue(settings):
    """The database task backend, with a worker given up for lost after 60 silent seconds."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.WORKER_LOST_AFTER_SECONDS = 60
    settings.TASK_MAX_ATTEMPTS = 3


def claimed(*worker_ids: str, job=some_job, args=()) -> DBTaskResult:
    """A task that these workers claimed in turn (each earlier one died running it)."""
    result = DBTaskResult.objects.get(pk=job.enqueue(*args).id)
    for worker_id in worker_ids:
        result.claim(worker_id)
    return result


def status(result: DBTaskResult) -> str:
    return DBTaskResult.objects.get(pk=result.pk).status


@pytest.mark.django_db
class TestRecovery:
    def test_a_dead_workers_task_is_queued_again_and_a_living_ones_is_left(
        self, queue, time_machine
    ):
        time_machine.move_to(NOON, tick=False)
        beat("alive")
        beat("dead")
        of_the_living = claimed("alive")
        of_the_dead = claimed("dead")
        of_a_worker_never_seen = claimed("db_worker-without-heartbeat")

        time_machine.move_to(NOON + timedelta(seconds=59), tick=False)
        assert recover_lost_tasks().requeued == []  # silent, but not for long enough

        time_machine.move_to(NOON + timedelta(seconds=61), tick=False)
        beat("alive")
        just_claimed = claimed("unseen-yet")  # claimed before its worker's first beat
        recovery = recover_lost_tasks()

        assert sorted(recovery.requeued) == sorted(
            [str(of_the_dead.pk), str(of_a_worker_never_seen.pk)]
        )
        assert recovery.failed == []
        assert status(of_the_living) == status(just_claimed) == TaskResultStatus.RUNNING
        requeued = DBTaskResult.objects.get(pk=of_the_dead.pk)
        assert requeued.status == TaskResultStatus.READY
        assert requeued.worker_ids == ["dead"]  # the attempts so far are kept
        assert DBTaskResult.objects.ready().filter(pk=requeued.pk).exists()
        # The dead worker's row goes; the living one's stays.
        assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["alive"]

    def test_a_queued_again_task_is_claimed_and_counted_as_a_new_attempt(self, queue, time_machine):
        time_machine.move_to(NOON, tick=False)
        result = claimed("first")
        time_machine.move_to(NOON + timedelta(minutes=2), tick=False)
        recover_lost_tasks()
        DBTaskResult.objects.get(pk=result.pk).claim("second")
        beat("second")
        assert recover_lost_tasks().requeued == []
        assert DBTaskResult.objects.get(pk=result.pk).task_result.attempts == 2

    def test_after_the_last_attempt_the_task_fails_with_a_clear_reason(
        self, queue, time_machine, caplog
    ):
        time_machine.move_to(NOON, tick=False)
        twice = claimed("w1", "w2")
        thrice = claimed("w1", "w2", "w3")
        time_machine.move_to(NOON + timedelta(minutes=2), tick=False)

        with caplog.at_level(logging.WARNING, logger="jiayuan.core.workers"):
            recovery = recover_lost_tasks()

        assert recovery.requeued == [str(twice.pk)]
        assert recovery.failed == [str(thrice.pk)]
        failed = DBTaskResult.objects.get(pk=thrice.pk)
        assert failed.status == TaskResultStatus.FAILED
        assert failed.finished_at == NOON + timedelta(minutes=2)
        assert failed.exception_class_path == WORKER_LOST
        assert "3 workers died running this task (the last: w3)" in failed.traceback
        (error,) = failed.task_result.errors
        assert error.exception_class is WorkerLost
        logged = {(record.levelname, str(record.args[0])) for record in caplog.records}
        assert ("ERROR", str(thrice.pk)) in logged
        assert ("WARNING", str(twice.pk)) in logged

    def test_the_attempt_limit_is_a_setting(self, queue, settings, time_machine):
        settings.TASK_MAX_ATTEMPTS = 1
        time_machine.move_to(NOON, tick=False)
        once = claimed("w1")
        time_machine.move_to(NOON + timedelta(minutes=2), tick=False)
        assert recover_lost_tasks().failed == [str(once.pk)]

    def test_a_given_up_task_tells_its_abandon_hook_with_its_arguments(self, queue, time_machine):
        abandoned_with.clear()
        time_machine.move_to(NOON, tick=False)
        result = claimed("w1", "w2", "w3", job=job_with_cleanup, args=(42,))
        time_machine.move_to(NOON + timedelta(minutes=2), tick=False)
        assert recover_lost_tasks().failed == [str(result.pk)]
        assert recover_lost_tasks().failed == []
        assert abandoned_with == [(42,)]

    def test_a_failing_hook_leaves_its_task_running_for_later_and_others_recovered(
        self, queue, time_machine
    ):
        time_machine.move_to(NOON, tick=False)
        hooked = claimed("w1", "w2", "w3", job=job_with_failing_cleanup, args=(7,))
        other = claimed("w4")
        time_machine.move_to(NOON + timedelta(minutes=2), tick=False)
        recovery = recover_lost_tasks()
        assert (recovery.requeued, recovery.failed) == ([str(other.pk)], [])
        assert status(hooked) == TaskResultStatus.RUNNING

    def test_of_two_recoverers_only_the_first_acts(self, queue, time_machine):
        time_machine.move_to(NOON, tick=False)
        lost = claimed("dead")
        doomed = claimed("w1", "w2", "w3", job=job_with_cleanup, args=(1,))
        time_machine.move_to(NOON + timedelta(minutes=2), tick=False)
        # Both find the same tasks lost; the first to act wins.
        seen_by_first = find_lost_tasks()
        seen_by_second = find_lost_tasks()
        assert {r.pk for r in seen_by_first} == {lost.pk, doomed.pk}
        abandoned_with.clear()

        first = recover(seen_by_first)
        second = recover(seen_by_second)

        assert sorted([*first.requeued, *first.failed]) == sorted([str(lost.pk), str(doomed.pk)])
        assert (second.requeued, second.failed) == ([], [])
        assert abandoned_with == [(1,)]

    def test_a_task_claimed_again_meanwhile_is_not_taken_from_its_new_worker(
        self, queue, time_machine
    ):
        time_machine.move_to(NOON, tick=False)
        result = claimed("dead")
        time_machine.move_to(NOON + timedelta(minutes=2), tick=False)
        seen_by_slow_recoverer = find_lost_tasks()
        recover_lost_tasks()  # another recoverer queues it again
        time_machine.move_to(NOON + timedelta(minutes=2, seconds=1), tick=False)
        DBTaskResult.objects.get(pk=result.pk).claim("new")  # and a worker claims it

        assert recover(seen_by_slow_recoverer).requeued == []
        assert DBTaskResult.objects.get(pk=result.pk).worker_ids == ["dead", "new"]
        assert status(result) == TaskResultStatus.RUNNING

    def test_finished_tasks_are_never_touched(self, queue, time_machine):
        time_machine.move_to(NOON, tick=False)
        done = claimed("dead")
        DBTaskResult.objects.get(pk=done.pk).set_successful(None)
        time_machine.move_to(NOON + timedelta(hours=1), tick=False)
        assert recover_lost_tasks().requeued == []
        assert status(done) == TaskResultStatus.SUCCESSFUL


@pytest.mark.django_db
def test_a_heartbeat_records_host_and_process_and_keeps_its_first_start(time_machine):
    time_machine.move_to(NOON, tick=False)
    beat("w1")
    time_machine.move_to(NOON + timedelta(seconds=5), tick=False)
    beat("w1")
    row = WorkerHeartbeat.objects.get()
    assert (row.worker_id, row.pid) == ("w1", os.getpid())
    assert row.host
    assert (row.started_at, row.last_seen) == (NOON, NOON + timedelta(seconds=5))


@pytest.mark.django_db
def test_a_heartbeat_beats_before_its_worker_claims_and_leaves_when_stopped(settings):
    settings.WORKER_HEARTBEAT_SECONDS = 3600  # only the first, synchronous beat
    heartbeat = Heartbeat("w1")
    heartbeat.start()
    assert WorkerHeartbeat.objects.filter(worker_id="w1").exists()
    heartbeat.stop()
    assert not WorkerHeartbeat.objects.exists()


def test_the_worker_refuses_to_reload(queue):
    with pytest.raises(CommandError, match="does not reload"):
        call_command("worker", "--reload", stdout=StringIO())


# ----------------------------------------------------------------- a real worker killed

# Waiting for processes to start and act, not for time to pass.
PROCESS_LIMIT_SECONDS = 60
PROBE_TABLE = "worker_recovery_probe"


@task()
def blocking_job(release_file: str) -> None:
    """Counts its start (committed at once, for the test to see), waits until the test
    releases it, then applies its effect once: the conditional UPDATE is its marker."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {PROBE_TABLE} SET starts = starts + 1")  # noqa: S608
    deadline = time.monotonic() + PROCESS_LIMIT_SECONDS
    while not Path(release_file).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never released the job")
        time.sleep(0.05)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {PROBE_TABLE} SET effects = effects + 1 WHERE effects = 0")  # noqa: S608


def probe() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT starts, effects FROM {PROBE_TABLE}")  # noqa: S608
        return cursor.fetchone()


@pytest.fixture
def probe_table(file_database):
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {PROBE_TABLE} (starts integer NOT NULL, effects integer NOT NULL)"
        )
        cursor.execute(f"INSERT INTO {PROBE_TABLE} VALUES (0, 0)")  # noqa: S608
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {PROBE_TABLE}")


def database_url() -> str:
    """The test database, for the worker processes: the PostgreSQL test database, or on
    SQLite the file the `file_database` fixture made."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    assert connection.vendor == "postgresql", connection.vendor
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "localhost"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


class Workers:
    """Worker processes of the test, each in its own session and with its own log."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.env = isolated_env(
            tmp_path / "data",
            DATABASE_URL=database_url(),
            TASK_BACKEND="database",
            WORKER_HEARTBEAT_SECONDS="1",
            WORKER_LOST_AFTER_SECONDS="3",
        )
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, worker_id: str) -> subprocess.Popen:
        argv = [
            *JIAYUAN,
            "worker",
            "--queue-name=*",
            "--interval=0.1",
            "--no-startup-delay",
            "--skip-checks",
            f"--worker-id={worker_id}",
        ]
        with (self.tmp_path / f"{worker_id}.log").open("w") as log:
            process = subprocess.Popen(  # noqa: S603
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.running[worker_id] = process
        return process

    def logs(self) -> str:
        return "\n".join(
            f"--- {worker_id}:\n{(self.tmp_path / f'{worker_id}.log').read_text()}"
            for worker_id in self.running
        )

    def wait_for(self, what: str, condition, *, alive: list[str]) -> None:
        deadline = time.monotonic() + PROCESS_LIMIT_SECONDS
        while not condition():
            for worker_id in alive:
                assert self.running[worker_id].poll() is None, f"{worker_id} exited\n{self.logs()}"
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not within {PROCESS_LIMIT_SECONDS} s\n{self.logs()}")
            time.sleep(0.1)

    def kill_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def workers(tmp_path):
    started = Workers(tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_loses_nothing_and_the_job_takes_effect_once(
    probe_table, workers, settings, tmp_path
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    release = tmp_path / "release"
    job = blocking_job.enqueue(str(release))

    def result() -> DBTaskResult:
        return DBTaskResult.objects.get(pk=job.id)

    first = workers.start("first")
    workers.wait_for("the first worker starts the job", lambda: probe() == (1, 0), alive=["first"])
    assert (result().status, result().worker_ids) == (TaskResultStatus.RUNNING, ["first"])

    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=PROCESS_LIMIT_SECONDS) == -signal.SIGKILL
    assert result().status == TaskResultStatus.RUNNING  # nobody else knows yet

    workers.start("second")
    workers.wait_for(
        "the second worker takes the job over and starts it again",
        lambda: probe() == (2, 0),
        alive=["second"],
    )
    assert result().worker_ids == ["first", "second"]
    release.touch()
    workers.wait_for(
        "the job finishes",
        lambda: result().status != TaskResultStatus.RUNNING,
        alive=["second"],
    )

    assert result().status == TaskResultStatus.SUCCESSFUL, result().traceback
    assert probe() == (2, 1)  # started twice, took effect once
    # Stopped politely, a worker leaves no heartbeat behind.
    workers.running["second"].send_signal(signal.SIGTERM)
    assert workers.running["second"].wait(timeout=PROCESS_LIMIT_SECONDS) == 0, workers.logs()
    assert not WorkerHeartbeat.objects.filter(worker_id="second").exists()
