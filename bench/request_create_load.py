"""Owners creating requests at once: 16 clients post new repairs to the product's
`POST /api/v1/requests` over keep-alive HTTP connections to the server `jiayuan start` runs
(waitress, 3 threads a process), on PostgreSQL, with the triage model trained. With
`--processes N` the server runs N such processes, each on its own port, and the clients
are shared out among them evenly, as the deployment guide's proxy shares them (one process
a CPU core). Each client speaks for
60 owners of its own in turn (each with a flat and an API token), one fault per owner and
category, so every report is a new fault (a repeat of an open one joins it: the duplicate
path, tested in test_incidents). Measured in the same run, against the same server and
database:

- minimal insert: the same six rows (the request, its three SLA clocks, its triage
  classification and its audit event) in one transaction, with no sign-in, checks,
  numbering, model or notifications — what the database alone allows;
- bare Ninja: an endpoint that parses the body and answers without the database.

    .venv/bin/python bench/request_create_load.py                   # 16 clients, 3 × 10 s
    .venv/bin/python bench/request_create_load.py --processes 2     # one a core, here
    .venv/bin/python bench/request_create_load.py --clients 32 --seconds 20

The endpoints take turns in rounds so a slow minute of the machine hits all of them. It
prints requests per second, p50 and p95 per endpoint, the errors, the product's share of
the minimal insert's throughput, the CPU each request cost the web server, PostgreSQL and
the clients (from /proc, on Linux), and checks that every 201 the clients counted is a stored
request with its own number. The tests run `run()` for a second on SQLite so this script
cannot rot.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jiayuan_bench_load"
ENDPOINTS = {
    "product create": "/api/v1/requests",
    "minimal insert": "/bench/minimal-insert",
    "bare Ninja": "/bench/bare",
}
# Each client posts for its own owners in turn, one fault each: a category per round over
# the owners, so no report repeats an open one of the same flat and category (that is the
# duplicate path, measured apart by the incident tests, not the intake's common case).
# (Categories of a building's shared equipment, such as the lift, are left out: two flats
# reporting the lift report one fault.)
OWNERS_PER_CLIENT = 60
CATEGORIES = [
    "plumbing",
    "electrical",
    "doors_locks",
    "hvac",
    "gas",
    "civil",
    "noise_neighbor",
    "billing",
    "other",
]
DESCRIPTIONS = [
    "厨房水龙头一直滴水，麻烦尽快上门看看",
    "卫生间地漏返味，下水很慢",
    "客厅插座没电了，空开没跳",
    "入户门锁芯坏了，钥匙拧不动",
]


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    # CPU seconds spent while this endpoint was loaded, by whose processes (Linux only).
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in (200, 201))

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok + len(self.failures)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def cpu_per_request(self, kind: str) -> float:
        """Milliseconds of CPU per answered request spent by `kind`'s processes."""
        return self.cpu.get(kind, 0.0) / self.ok * 1000 if self.ok else 0.0

    def percentile(self, share: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100)[round(share * 100) - 1]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(server_pid: int) -> dict[str, float] | None:
    """CPU seconds used so far by the web server (and its children), by PostgreSQL's
    processes and by this script (the clients), from /proc; None where there is none."""
    if not os.path.isdir("/proc/self"):
        return None
    rows = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path("/proc", entry, "stat").read_text()
            except OSError:
                continue
            name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
            fields = rest.split()
            seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            rows[int(entry)] = (name, int(fields[1]), seconds)
    server = {server_pid} | {pid for pid, (_n, parent, _s) in rows.items() if parent == server_pid}
    used = {"server": 0.0, "PostgreSQL": 0.0, "clients": 0.0}
    for pid, (name, _parent, seconds) in rows.items():
        if pid in server:
            used["server"] += seconds
        elif name.startswith("postgres"):
            used["PostgreSQL"] += seconds
        elif pid == os.getpid():
            used["clients"] += seconds
    return used


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def start_server(database_url: str, owners: int, workdir: str, processes: int = 1):
    """The server subprocess and the owners it prepared."""
    port = _free_port()
    setup_file = os.path.join(workdir, "setup.json")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JIAYUAN_DATA_DIR": workdir,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(HERE),
    }
    server = subprocess.Popen(  # noqa: S603 - our own script with our own arguments
        [
            sys.executable,
            str(HERE / "create_load_server.py"),
            *(str(arg) for arg in (port, owners, setup_file, processes)),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(workdir, "server.log"), "w"),  # noqa: SIM115 - closed with it
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log = Path(workdir, "server.log").read_text()[-3000:]
            raise RuntimeError(f"the server stopped:\n{log}")
        if os.path.exists(setup_file):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return server, port, json.loads(Path(setup_file).read_text())
            except OSError:
                pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start within 3 minutes")


def _client(port, path, owners, estate, stop_at, result, lock, turn):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, statuses, failures = [], {}, []
    while time.perf_counter() < stop_at:
        n = next(turn)
        owner = owners[n % len(owners)]
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {owner['token']}",
            "Accept-Language": "zh-hans",
        }
        body = json.dumps(
            {
                "estate": estate,
                "kind": "repair",
                "category": CATEGORIES[n // len(owners) % len(CATEGORIES)],
                "description": DESCRIPTIONS[n % len(DESCRIPTIONS)],
                "unit": owner["unit"],
            }
        )
        started = time.perf_counter()
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            failures.append(repr(exc))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    connection.close()
    with lock:
        result.latencies.extend(latencies)
        result.failures.extend(failures)
        for status, count in statuses.items():
            result.statuses[status] = result.statuses.get(status, 0) + count


def load(port: int, setup: dict, result: Result, path: str, clients: int, seconds: float):
    """`clients` threads, each posting for its own owners for `seconds`; adds to `result`.
    Each client's turns go on across calls, one count per endpoint (`setup["turns"]`). The
    clients take the web processes' ports in turn, so each process serves an equal share."""
    lock = threading.Lock()
    owners = setup["owners"]
    ports = setup.get("ports") or [port]
    turns = setup.setdefault("turns", {}).setdefault(
        path, [itertools.count() for _ in range(clients)]
    )
    stop_at = time.perf_counter() + seconds
    threads = [
        threading.Thread(
            target=_client,
            args=(
                *(ports[i % len(ports)], path, owners[i::clients], setup["estate"]),
                *(stop_at, result, lock, turns[i]),
            ),
        )
        for i in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds += time.perf_counter() - started


def stored(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/bench/created")
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"/bench/created answered {response.status}: {body[:500]!r}")
    return json.loads(body)


def run(
    database_url: str,
    *,
    clients: int = 16,
    seconds: float = 10,
    rounds: int = 3,
    processes: int = 1,
    progress=print,
) -> tuple[list[Result], dict]:
    """Start the server on `database_url` (dropped and made again when PostgreSQL), load
    each endpoint in turns, and return the results and what the server stored."""
    prepare_database(database_url)
    with tempfile.TemporaryDirectory(prefix="jiayuan-load-") as workdir:
        server, port, setup = start_server(
            database_url, clients * OWNERS_PER_CLIENT, workdir, processes
        )
        try:
            results = {name: Result(name) for name in ENDPOINTS}
            for name, path in ENDPOINTS.items():  # warm every code path first
                load(port, setup, Result(name), path, clients, min(1.0, seconds / 4))
            before = stored(port)
            for round_number in range(1, rounds + 1):
                for name, path in ENDPOINTS.items():
                    cpu_before = _process_cpu(server.pid)
                    load(port, setup, results[name], path, clients, seconds)
                    cpu_after = _process_cpu(server.pid)
                    if cpu_before and cpu_after:
                        spent = results[name].cpu
                        for kind, seconds_used in cpu_after.items():
                            spent[kind] = spent.get(kind, 0.0) + seconds_used - cpu_before[kind]
                    progress(f"  round {round_number}/{rounds}: {name} done")
            after = stored(port)
        finally:
            server.terminate()
            server.wait(timeout=30)
    created = results["product create"]
    check = {
        "answered_201": created.statuses.get(201, 0),
        "stored": after["rows"] - before["rows"],
        "distinct_numbers": after["numbers"] - before["numbers"],
    }
    return list(results.values()), check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10, help="per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument(
        "--processes", type=int, default=1, help="web server processes, each on its own port"
    )
    args = parser.parse_args()
    print(
        f"{args.clients} clients, {args.rounds} rounds of {args.seconds:g} s per endpoint, "
        f"on {args.database.rsplit('@', 1)[-1]}"
    )
    results, check = run(
        args.database,
        clients=args.clients,
        seconds=args.seconds,
        rounds=args.rounds,
        processes=args.processes,
    )
    print(f"\n{'endpoint':<16} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    for r in results:
        print(
            f"{r.name:<16} {r.per_second:8.1f} {r.percentile(0.5):8.1f} "
            f"{r.percentile(0.95):8.1f} {r.errors:7d}"
        )
    if results[0].cpu:
        print("\nCPU ms per request   server  PostgreSQL  clients")
        for r in results:
            print(
                f"{r.name:<18} {r.cpu_per_request('server'):8.2f} "
                f"{r.cpu_per_request('PostgreSQL'):11.2f} {r.cpu_per_request('clients'):8.2f}"
            )
    for r in results:
        if r.failures or set(r.statuses) - {200, 201}:
            print(f"{r.name}: statuses {r.statuses}, failures {r.failures[:3]}")
    by_name = {r.name: r for r in results}
    if by_name["minimal insert"].per_second:
        share = by_name["product create"].per_second / by_name["minimal insert"].per_second
        print(f"\nproduct create / minimal insert throughput: {share:.0%}")
    print(
        f"201 answers {check['answered_201']}, stored {check['stored']}, "
        f"distinct numbers {check['distinct_numbers']}"
    )


if __name__ == "__main__":
    main()
