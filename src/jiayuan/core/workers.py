"""Task workers that prove they are alive, and the taking back of tasks whose worker died.

django-tasks-db claims a task by marking it RUNNING and appending the worker's id to its
`worker_ids`; if that worker's process dies (killed, out of memory, machine lost), nothing
ever touches the task again. So each `jiayuan worker` touches its `WorkerHeartbeat` row
every WORKER_HEARTBEAT_SECONDS from a thread of its own, and every worker now and then
looks for RUNNING tasks whose last worker has been silent for WORKER_LOST_AFTER_SECONDS:
such a task is queued again, or failed for good once TASK_MAX_ATTEMPTS workers died on it.
Each of these is one conditional UPDATE that also requires the task to be still RUNNING
from the same claim (`started_at`), so of two workers recovering at once only one acts,
and a task claimed again in the meantime is left alone.

A task may therefore run more than once (and, if a worker only looked dead, twice at
once): every task must be idempotent (see tasks.py in each app and docs/decisions.md).
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiayuan.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """Recorded as the error of a task given up because its workers kept dying."""


WORKER_LOST = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"


_abandon_hooks: dict[str, Callable[..., None]] = {}


def on_abandon(task: Task) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register what to do when `task` is given up after its workers died while running it:
    the function gets the task's arguments and runs in the transaction that fails the task,
    so whatever the task had marked as "in progress" can say it stopped.

    @on_abandon(import_spreadsheet)
    def import_abandoned(job_id): ...
    """

    def register(hook: Callable[..., None]) -> Callable[..., None]:
        _abandon_hooks[task.module_path] = hook
        return hook

    return register


def beat(worker_id: str) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"last_seen": now},
        create_defaults={
            "last_seen": now,
            "started_at": now,
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
        },
    )


@dataclass
class Recovery:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def recover_lost_tasks() -> Recovery:
    """Queue again, or fail after TASK_MAX_ATTEMPTS, every task left RUNNING by a dead worker."""
    recovery = recover(find_lost_tasks())
    # A missing row means the same as a stale one; only the living need theirs.
    WorkerHeartbeat.objects.filter(last_seen__lt=_silent_since()).delete()
    return recovery


def find_lost_tasks() -> list[DBTaskResult]:
    """The RUNNING tasks whose last worker has been silent for WORKER_LOST_AFTER_SECONDS."""
    silent_since = _silent_since()
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=silent_since).values_list(
            "worker_id", flat=True
        )
    )
    # A task claimed within that time is never taken, even from a worker not yet seen.
    running = DBTaskResult.objects.running().filter(started_at__lt=silent_since)
    return [r for r in running if not r.worker_ids or r.worker_ids[-1] not in alive]


def recover(lost: Iterable[DBTaskResult]) -> Recovery:
    """Queue each task again, or fail it once TASK_MAX_ATTEMPTS workers died on it, unless it
    has changed since it was found lost (another recoverer was quicker)."""
    recovery = Recovery()
    for result in lost:
        try:
            if len(result.worker_ids) < settings.TASK_MAX_ATTEMPTS:
                if _requeue(result):
                    recovery.requeued.append(str(result.pk))
            elif _give_up(result):
                recovery.failed.append(str(result.pk))
        except Exception:
            # One task's failing hook must not keep the others from being recovered.
            logger.exception("could not recover task %s (%s)", result.pk, result.task_path)
    return recovery


def _silent_since() -> datetime:
    return timezone.now() - timedelta(seconds=settings.WORKER_LOST_AFTER_SECONDS)


def _same_claim(result: DBTaskResult):
    return DBTaskResult.objects.filter(
        pk=result.pk, status=TaskResultStatus.RUNNING, started_at=result.started_at
    )


def _requeue(result: DBTaskResult) -> bool:
    requeued = _same_claim(result).update(status=TaskResultStatus.READY)
    if requeued:
        logger.warning(
            "task %s (%s): worker %s stopped while running it; queued again (attempt %d of %d)",
            result.pk,
            result.task_path,
            _last_worker(result),
            len(result.worker_ids) + 1,
            settings.TASK_MAX_ATTEMPTS,
        )
    return bool(requeued)


def _give_up(result: DBTaskResult) -> bool:
    reason = (
        f"{WORKER_LOST}: {len(result.worker_ids)} workers died running this task "
        f"(the last: {_last_worker(result)}); not run again."
    )
    with transaction.atomic():
        failed = _same_claim(result).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path=WORKER_LOST,
            traceback=reason,
        )
        if failed:
            autodiscover_modules("tasks")
            hook = _abandon_hooks.get(result.task_path)
            if hook is not None:
                hook(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
    if failed:
        logger.error("task %s (%s) failed: %s", result.pk, result.task_path, reason)
    return bool(failed)


def _last_worker(result: DBTaskResult) -> str:
    return result.worker_ids[-1] if result.worker_ids else "unknown"


class Heartbeat:
    """A worker's proof of life, beating from its own thread so that a long task does not
    silence it; between beats it takes back the tasks of dead workers."""

    def __init__(self, worker_id: str):
        self.worker_id = worker_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        # The first beat comes before the worker claims anything.
        beat(self.worker_id)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=settings.WORKER_HEARTBEAT_SECONDS + 5)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()

    def _run(self) -> None:
        interval = settings.WORKER_HEARTBEAT_SECONDS
        next_recovery = time.monotonic()  # on the first beat: workers that died before
        try:
            while not self._stop.wait(interval):
                # A dropped connection is reopened instead of failing every beat after it.
                close_old_connections()
                try:
                    beat(self.worker_id)
                    if time.monotonic() >= next_recovery:
                        recover_lost_tasks()
                        next_recovery = time.monotonic() + settings.WORKER_LOST_AFTER_SECONDS / 2
                except Exception:
                    logger.exception("worker heartbeat failed; retrying in %s s", interval)
        finally:
            connection.close()
