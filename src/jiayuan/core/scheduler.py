"""Periodic jobs: a registry of (name, cron expression, task) and the scheduler that enqueues
each job's due tick exactly once, however many scheduler processes run.

Two guards make "exactly once" hold. Each job has a `SchedulerLease` row; a scheduler
claims the rows with one conditional UPDATE (`WHERE lease_expires < now OR holder = me`)
and renews them every loop, so while it lives the others stand by, and when it dies its
lease runs out and another takes over. Firing a tick is a second conditional UPDATE
(`WHERE holder = me AND last_tick < tick`) in the same transaction as the enqueue, so
even a holder that stalled past its lease cannot enqueue a tick that was already fired.

Cron expressions are read in the project's TIME_ZONE. After downtime a job fires once for
its latest missed tick, not once per missed tick; a newly registered job waits for its
next tick instead of firing for one that passed before it existed.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter
from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import autodiscover_modules
from django_tasks.base import Task

from jiayuan.core.models import SchedulerLease

logger = logging.getLogger(__name__)

# Before any real time, so a fresh row's lease is free to claim.
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    cron: str
    task: Task

    def due_tick(self, now: datetime) -> datetime:
        """The latest tick at or before `now`."""
        local_now = timezone.localtime(now)
        # croniter's get_prev excludes its base, so nudge the base past a tick that is now.
        base = local_now + timedelta(microseconds=1)
        return croniter(self.cron, base).get_prev(datetime)


_registry: dict[str, PeriodicJob] = {}


def periodic(name: str, cron: str) -> Callable[[Task], Task]:
    """Register a task to be enqueued on a cron schedule:

    @periodic("prune_task_results", "17 3 * * *")
    @task()
    def prune_task_results(): ...
    """
    if not croniter.is_valid(cron):
        raise ValueError(f"periodic job {name!r}: invalid cron expression {cron!r}")
    if len(name) > SchedulerLease._meta.get_field("job").max_length:
        raise ValueError(f"periodic job name too long: {name!r}")

    def register(task: Task) -> Task:
        if not isinstance(task, Task):
            raise TypeError("@periodic goes above @task(): it schedules a task")
        existing = _registry.get(name)
        if existing is not None and existing.task.module_path != task.module_path:
            raise ValueError(f"two periodic jobs are named {name!r}")
        _registry[name] = PeriodicJob(name=name, cron=cron, task=task)
        return task

    return register


def registered_jobs() -> list[PeriodicJob]:
    """Every job declared with @periodic in an installed app's tasks module."""
    autodiscover_modules("tasks")
    return sorted(_registry.values(), key=lambda job: job.name)


def new_holder_id() -> str:
    """Readable in the lease table: which machine and process holds the jobs."""
    host = socket.gethostname()[:30]
    return f"{host}:{os.getpid()}:{get_random_string(8)}"


class Scheduler:
    def __init__(
        self,
        jobs: Iterable[PeriodicJob] | None = None,
        *,
        holder: str | None = None,
        lease_seconds: float = 60,
    ):
        self.jobs = list(registered_jobs() if jobs is None else jobs)
        self.holder = holder or new_holder_id()
        self.lease = timedelta(seconds=lease_seconds)

    @property
    def job_names(self) -> list[str]:
        return [job.name for job in self.jobs]

    def run_once(self) -> list[str]:
        """One loop: make sure every job has its row, claim or renew the lease, fire the due
        ticks. Returns the names of the jobs enqueued."""
        if not self.jobs:
            return []
        now = timezone.now()
        self._ensure_rows(now)
        claimed = self._claim(now)
        if not claimed:
            return []
        return [job.name for job in self.jobs if self._fire_if_due(job, now)]

    def _ensure_rows(self, now: datetime) -> None:
        SchedulerLease.objects.bulk_create(
            [
                SchedulerLease(
                    job=job.name, holder="", lease_expires=_LONG_AGO, last_tick=job.due_tick(now)
                )
                for job in self.jobs
            ],
            ignore_conflicts=True,
        )

    def _claim(self, now: datetime) -> int:
        return (
            SchedulerLease.objects.filter(job__in=self.job_names)
            .filter(Q(lease_expires__lt=now) | Q(holder=self.holder))
            .update(holder=self.holder, lease_expires=now + self.lease)
        )

    def _fire_if_due(self, job: PeriodicJob, now: datetime) -> bool:
        tick = job.due_tick(now)
        with transaction.atomic():
            won = (
                SchedulerLease.objects.filter(
                    job=job.name, holder=self.holder, lease_expires__gt=now
                )
                .filter(Q(last_tick__isnull=True) | Q(last_tick__lt=tick))
                .update(last_tick=tick)
            )
            if won:
                job.task.enqueue()
        if won:
            logger.info("enqueued %s for tick %s", job.name, tick.isoformat())
        return bool(won)

    def release(self) -> None:
        """Hand the jobs over at once instead of making the others wait for the lease."""
        SchedulerLease.objects.filter(holder=self.holder).update(holder="", lease_expires=_LONG_AGO)

    def run_forever(self, *, interval: float, stop: threading.Event) -> None:
        """Loop until `stop` is set. A failing loop (database away for a moment) is logged
        and retried on the next one: the scheduler must outlive short outages."""
        while not stop.is_set():
            # Like a request, each loop starts on a healthy connection: a dropped one is
            # reopened instead of failing every loop after it.
            close_old_connections()
            try:
                self.run_once()
            except Exception:
                logger.exception("scheduler loop failed; retrying in %s s", interval)
            stop.wait(interval)
        try:
            self.release()
        except Exception:
            logger.exception("could not release the scheduler lease; it will expire")
