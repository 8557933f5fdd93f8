import threading
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks import default_task_backend, task
from django_tasks_db.models import DBTaskResult

from jiayuan.core.models import SchedulerLease
from jiayuan.core.scheduler import PeriodicJob, Scheduler, periodic, registered_jobs
from jiayuan.core.tasks import TASK_RESULT_RETENTION, prune_task_results

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
loop_stop = threading.Event()
job_ran = threading.Event()


@task()
def every_five_minutes() -> None:
    """Stands for any periodic job; the dummy backend records each enqueue."""


@task()
def stop_the_loop() -> None:
    job_ran.set()
    loop_stop.set()


FIVE_MINUTES = PeriodicJob("test_every_five_minutes", "*/5 * * * *", every_five_minutes)


@pytest.fixture
def dummy_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    return default_task_backend


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, second, tzinfo=SHANGHAI)


def enqueued(backend) -> int:
    return sum(1 for result in backend.results if result.task.func is every_five_minutes.func)


def test_two_schedulers_fire_each_tick_exactly_once(time_machine, dummy_tasks):
    first = Scheduler([FIVE_MINUTES], holder="first")
    second = Scheduler([FIVE_MINUTES], holder="second")
    fired = {"first": 0, "second": 0}
    moment = at(9, 58, 30)
    for step in range(63):  # every 30 seconds from 09:58:30 to 10:29:30
        time_machine.move_to(moment + timedelta(seconds=30 * step), tick=False)
        pair = (first, second) if step % 2 else (second, first)
        for scheduler in pair:
            fired[scheduler.holder] += len(scheduler.run_once())
    # Ticks 10:00, 10:05 ... 10:25: six, each enqueued once, all by whoever won the lease.
    assert enqueued(dummy_tasks) == 6
    assert sorted(fired.values()) == [0, 6]


def test_a_new_job_waits_for_its_next_tick(time_machine, dummy_tasks):
    scheduler = Scheduler([FIVE_MINUTES], holder="only")
    time_machine.move_to(at(10, 3), tick=False)
    assert scheduler.run_once() == []
    time_machine.move_to(at(10, 4, 59), tick=False)
    assert scheduler.run_once() == []
    time_machine.move_to(at(10, 5), tick=False)
    assert scheduler.run_once() == ["test_every_five_minutes"]
    assert enqueued(dummy_tasks) == 1


def test_missed_ticks_fire_once_after_downtime(time_machine, dummy_tasks):
    scheduler = Scheduler([FIVE_MINUTES], holder="only")
    time_machine.move_to(at(10, 1), tick=False)
    scheduler.run_once()
    time_machine.move_to(at(11, 2), tick=False)
    assert scheduler.run_once() == ["test_every_five_minutes"]
    assert scheduler.run_once() == []
    assert enqueued(dummy_tasks) == 1
    assert SchedulerLease.objects.get().last_tick == at(11, 0)


def test_a_dead_holders_lease_is_taken_over_only_after_it_expires(time_machine, dummy_tasks):
    dead = Scheduler([FIVE_MINUTES], holder="dead", lease_seconds=600)
    standby = Scheduler([FIVE_MINUTES], holder="standby", lease_seconds=600)
    time_machine.move_to(at(10, 0, 30), tick=False)
    dead.run_once()  # claims the lease until 10:10:30, then its process dies
    time_machine.move_to(at(10, 5, 10), tick=False)
    assert standby.run_once() == []
    time_machine.move_to(at(10, 10, 29), tick=False)
    assert standby.run_once() == []
    time_machine.move_to(at(10, 10, 31), tick=False)
    assert standby.run_once() == ["test_every_five_minutes"]
    assert SchedulerLease.objects.get().holder == "standby"
    # The old holder comes back to life: it neither steals the lease nor repeats the tick.
    time_machine.move_to(at(10, 10, 40), tick=False)
    assert dead.run_once() == []
    assert enqueued(dummy_tasks) == 1


def test_a_tick_already_fired_is_not_fired_again_by_a_new_holder(time_machine, dummy_tasks):
    first = Scheduler([FIVE_MINUTES], holder="first")
    second = Scheduler([FIVE_MINUTES], holder="second")
    time_machine.move_to(at(10, 4), tick=False)
    first.run_once()
    time_machine.move_to(at(10, 5, 1), tick=False)
    assert first.run_once() == ["test_every_five_minutes"]
    first.release()
    assert second.run_once() == []
    time_machine.move_to(at(10, 10, 1), tick=False)
    assert second.run_once() == ["test_every_five_minutes"]
    assert enqueued(dummy_tasks) == 2


def test_a_released_lease_is_free_at_once(time_machine, dummy_tasks):
    first = Scheduler([FIVE_MINUTES], holder="first")
    second = Scheduler([FIVE_MINUTES], holder="second")
    time_machine.move_to(at(10, 4), tick=False)
    first.run_once()
    first.release()
    time_machine.move_to(at(10, 5), tick=False)
    assert second.run_once() == ["test_every_five_minutes"]
    assert first.run_once() == []


def test_cron_ticks_are_read_in_shanghai_time():
    daily = PeriodicJob("daily", "17 3 * * *", every_five_minutes)
    assert daily.due_tick(at(3, 17)) == at(3, 17)
    assert daily.due_tick(at(3, 16, 59)) == at(3, 17) - timedelta(days=1)
    utc_moment = datetime(2026, 3, 1, 19, 17, tzinfo=ZoneInfo("UTC"))  # 03:17 in Shanghai
    assert daily.due_tick(utc_moment) == at(3, 17)


def test_the_registry_refuses_bad_declarations():
    with pytest.raises(ValueError, match="cron"):
        periodic("broken", "61 * * * *")
    with pytest.raises(TypeError):
        periodic("not_a_task", "* * * * *")(lambda: None)
    with pytest.raises(ValueError, match="two periodic jobs"):
        periodic("prune_task_results", "* * * * *")(every_five_minutes)
    with pytest.raises(ValueError, match="too long"):
        periodic("x" * 101, "* * * * *")


def test_pruning_is_registered_daily():
    prune = {job.name: job for job in registered_jobs()}["prune_task_results"]
    assert prune.task is prune_task_results
    tick = prune.due_tick(at(12, 0))
    assert prune.due_tick(tick - timedelta(seconds=1)) == tick - timedelta(days=1)


def test_pruning_deletes_only_old_finished_results(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    old = timezone.now() - TASK_RESULT_RETENTION - timedelta(hours=1)
    recent = timezone.now() - timedelta(days=1)
    ids = {
        name: every_five_minutes.enqueue().id for name in ("old_ok", "old_failed", "new", "ready")
    }
    DBTaskResult.objects.filter(id=ids["old_ok"]).update(status="SUCCESSFUL", finished_at=old)
    DBTaskResult.objects.filter(id=ids["old_failed"]).update(status="FAILED", finished_at=old)
    DBTaskResult.objects.filter(id=ids["new"]).update(status="SUCCESSFUL", finished_at=recent)

    assert prune_task_results.call() == 2
    assert set(DBTaskResult.objects.values_list("id", flat=True)) == {
        DBTaskResult._meta.pk.to_python(ids["new"]),
        DBTaskResult._meta.pk.to_python(ids["ready"]),
    }


# Committed rows: each loop starts by recycling the database connection, as a long-running
# process must, which a test transaction would not survive.
@pytest.mark.django_db(transaction=True)
def test_run_forever_stops_on_the_event_and_releases_its_lease():
    loop_stop.clear()
    job_ran.clear()
    job = PeriodicJob("test_stop_the_loop", "* * * * *", stop_the_loop)
    SchedulerLease.objects.create(
        job=job.name,
        lease_expires=timezone.now() - timedelta(minutes=1),
        last_tick=timezone.now() - timedelta(hours=1),
    )
    scheduler = Scheduler([job], holder="looping")
    # The immediate task backend runs the job inside the loop, and the job sets the event;
    # the timer only keeps a broken loop from hanging the suite.
    safety = threading.Timer(10, loop_stop.set)
    safety.start()
    try:
        scheduler.run_forever(interval=0.01, stop=loop_stop)
    finally:
        safety.cancel()
    assert job_ran.is_set()
    lease = SchedulerLease.objects.get(job=job.name)
    assert lease.holder == ""
    assert lease.lease_expires < timezone.now()


def test_the_command_once_enqueues_what_is_due(dummy_tasks):
    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert "nothing due" in out.getvalue()
    assert SchedulerLease.objects.filter(job="prune_task_results", holder="").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--interval", "0"],
        ["--interval", "soon"],
        ["--lease", "-5"],
        ["--interval", "nan"],
        ["--interval", "10", "--lease", "15"],
    ],
)
def test_the_command_refuses_bad_timings(args):
    with pytest.raises(CommandError):
        call_command("scheduler", "--once", *args, stdout=StringIO())
