from django.core.management.base import CommandError
from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from jiayuan.core.scheduler import new_holder_id
from jiayuan.core.workers import Heartbeat


class Command(DBWorkerCommand):
    help = (
        "Run a task worker: django-tasks-db's db_worker, plus a heartbeat that proves this "
        "worker alive and takes back the tasks of workers that died. Run this, not "
        "db_worker: a db_worker's tasks look abandoned and would be run again."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # A readable id by default (host and process), as in the heartbeat table; and no
        # reloading even with DEBUG on.
        parser.set_defaults(worker_id=None, reload=False)

    def handle(self, *args, worker_id: str | None, reload: bool, **options):
        if reload:
            # The reloader restarts the worker in a child process, killing a task mid-way
            # on every code change, while this process would beat for a worker that is not.
            raise CommandError("the worker does not reload; restart it after a change")
        worker_id = worker_id or new_holder_id()
        heartbeat = Heartbeat(worker_id)
        heartbeat.start()
        try:
            super().handle(*args, worker_id=worker_id, reload=False, **options)
        finally:
            heartbeat.stop()
