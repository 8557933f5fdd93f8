import os
import signal
import socket
import subprocess
import sys
import threading
from argparse import ArgumentTypeError
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend

from jiayuan import demo
from jiayuan.core.management.commands.demo import print_logins
from jiayuan.org.demo import FULL_PLAN, DemoError
from jiayuan.org.models import Company
from jiayuan.triage import model as triage_model
from jiayuan.triage import services as triage_services

# How long children get to finish what they are doing after being asked to stop.
STOP_GRACE_SECONDS = 10
# The web server's threads in one process: enough to keep its CPU busy while a request or
# two wait for the database, few enough not to take turns at Python's lock. With 8, the
# same throughput came with a slower tail (decisions §37); more load wants more processes.
WEB_THREADS = 3
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Child:
    name: str
    argv: list[str]


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError as exc:
        raise ArgumentTypeError(f"expected a port number, not {raw!r}") from exc
    if not 1 <= port <= 65535:
        raise ArgumentTypeError(f"expected a port between 1 and 65535, not {port}")
    return port


def _ensure_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({exc.strerror}). Is Jiayuan already "
                "running? Choose another port with --port."
            ) from exc


class Command(BaseCommand):
    help = (
        "Set up and run Jiayuan on this machine: migrate, collect static files, build the "
        "demo on an empty database, then run the web server, the task worker and the "
        "scheduler together until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="do not build the demo company, even on an empty database",
        )

    def handle(self, *, host: str, port: int, no_demo: bool, **options):
        _ensure_port_free(host, port)
        self._say("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not triage_model.default_path().exists():
            # Pages only ever read a saved model: the first one is trained here, once.
            self._say("Training the request triage model from the shipped corpus…")
            triage_services.model_train_first(path=triage_model.default_path())
        if not no_demo and not Company.objects.exists():
            self._say("Empty database: building the demo company…")
            try:
                demo.build(plan=FULL_PLAN, progress=lambda line: self._say(f"  {line}"))
            except DemoError as exc:
                raise CommandError(f"{exc} Start with --no-demo to skip the demo.") from exc
        self._run(self._children(host, port), host, port)

    def _children(self, host: str, port: int) -> list[Child]:
        manage = [sys.executable, "-m", "jiayuan.cli"]
        listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        children = [
            Child(
                "web server",
                [
                    sys.executable,
                    "-m",
                    "waitress",
                    f"--listen={listen}",
                    f"--threads={WEB_THREADS}",
                    "--ident=jiayuan",
                    "jiayuan.wsgi:application",
                ],
            ),
        ]
        if isinstance(task_backends["default"], DatabaseBackend):
            children.append(
                Child(
                    "task worker",
                    [*manage, "worker", "--queue-name=*", "--skip-checks"],
                )
            )
        else:
            self._say(f"TASK_BACKEND is {settings.TASK_BACKEND}: no task worker is needed.")
        children.append(Child("scheduler", [*manage, "scheduler", "--skip-checks"]))
        return children

    def _run(self, children: list[Child], host: str, port: int) -> None:
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.settings")
        # No new session: the children stay in this process group, so a Ctrl-C in the
        # terminal reaches all of them even if this process is gone.
        running: list[tuple[Child, subprocess.Popen]] = []
        try:
            for child in children:
                running.append((child, subprocess.Popen(child.argv, env=env)))  # noqa: S603
            shown_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104
            url_host = f"[{shown_host}]" if ":" in shown_host else shown_host
            self._say(f"Jiayuan is running at http://{url_host}:{port}/")
            if host not in {"127.0.0.1", "localhost", "::1"}:
                self._say(
                    "  Other machines are answered only under the names in ALLOWED_HOSTS "
                    f"(now {', '.join(settings.ALLOWED_HOSTS)})."
                )
            for child, process in running:
                self._say(f"  {child.name:<12} pid {process.pid}")
            print_logins(self.stdout)
            self._say("Press Ctrl-C to stop.")
            failure = self._supervise(running, stop)
        finally:
            self._stop(running)
        if failure:
            raise CommandError(failure, returncode=1)
        self._say("Stopped.")

    def _supervise(self, running, stop: threading.Event) -> str | None:
        """Wait for a stop signal or for a child to exit; the message if a child died."""
        while not stop.wait(POLL_SECONDS):
            for child, process in running:
                code = process.poll()
                if code is None:
                    continue
                # A Ctrl-C reaches the children together with us; let our own signal
                # arrive before calling their exit a failure.
                if stop.wait(POLL_SECONDS):
                    return None
                return (
                    f"The {child.name} stopped unexpectedly (exit code {code}); "
                    "stopped the others too."
                )
        return None

    def _stop(self, running) -> None:
        for _child, process in running:
            if process.poll() is None:
                process.terminate()
        for child, process in running:
            try:
                process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._say(f"The {child.name} did not stop in time; killing it.")
                process.kill()
                process.wait()

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
