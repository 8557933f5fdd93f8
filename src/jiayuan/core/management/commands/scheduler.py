import signal
import threading
from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError

from jiayuan.core.scheduler import Scheduler


def _positive_seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise ArgumentTypeError(f"expected a number of seconds, not {raw!r}") from exc
    if not 0 < value < float("inf"):
        raise ArgumentTypeError(f"expected a positive number of seconds, not {raw!r}")
    return value


class Command(BaseCommand):
    help = (
        "Run the periodic-job scheduler: enqueue each registered job on its cron tick. "
        "Several may run at once (on several machines); only one fires each tick."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=_positive_seconds,
            default=10.0,
            help="seconds between checks for due jobs (default 10)",
        )
        parser.add_argument(
            "--lease",
            type=_positive_seconds,
            default=60.0,
            help="seconds a stopped scheduler's jobs wait before another takes them "
            "(default 60; at least twice the interval)",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="check once, enqueue what is due and exit (for cron-driven setups)",
        )

    def handle(self, *, interval: float, lease: float, once: bool, **options):
        if lease < 2 * interval:
            raise CommandError("--lease must be at least twice --interval")
        scheduler = Scheduler(lease_seconds=lease)
        if once:
            fired = scheduler.run_once()
            scheduler.release()
            self.stdout.write(f"enqueued: {', '.join(fired) or 'nothing due'}")
            return
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        jobs = ", ".join(f"{job.name} ({job.cron})" for job in scheduler.jobs) or "none"
        self.stdout.write(f"scheduler {scheduler.holder} running; jobs: {jobs}")
        self.stdout.flush()
        scheduler.run_forever(interval=interval, stop=stop)
        self.stdout.write("scheduler stopped")
