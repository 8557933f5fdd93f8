import time

from django.core.management.base import BaseCommand, CommandError

from jiayuan import demo
from jiayuan.org.demo import (
    DEMO_COMPANY_NAME,
    DEMO_PASSWORD,
    FULL_PLAN,
    SMALL_PLAN,
    DemoError,
    demo_exists,
    demo_logins,
)


def print_logins(stdout) -> None:
    """The demo sign-ins as a table; shared with `jiayuan start`."""
    logins = demo_logins()
    if not logins:
        return
    width = max(len(login.role) for login in logins)
    stdout.write(f"Demo sign-ins (username or mobile), password for all: {DEMO_PASSWORD}")
    for login in logins:
        stdout.write(f"  {login.role:<{width}}  {login.username:<16} {login.mobile}  {login.name}")


class Command(BaseCommand):
    help = (
        f"Build the demo company {DEMO_COMPANY_NAME}: a residential estate of about 1,200 "
        "units, a commercial tower, residents, staff for every role, teams and a service desk "
        "with a few hundred requests in every state. Does nothing if it already exists."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the demo company and everyone in it first, then build it again",
        )
        parser.add_argument(
            "--small",
            action="store_true",
            help="a few dozen units instead of 1,400 (for tests and quick looks)",
        )

    def handle(self, *, reset: bool, small: bool, **options):
        if reset and demo.delete():
            self.stdout.write("Deleted the demo company.")
        if demo_exists():
            self.stdout.write("The demo company already exists; nothing to do (--reset rebuilds).")
            print_logins(self.stdout)
            return
        started = time.monotonic()
        try:
            demo.build(plan=SMALL_PLAN if small else FULL_PLAN, progress=self._progress)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Demo built in {time.monotonic() - started:.1f} s."))
        print_logins(self.stdout)

    def _progress(self, line: str) -> None:
        self.stdout.write(f"  {line}")
        self.stdout.flush()
