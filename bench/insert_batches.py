"""A batch of rows inserted as one array a column (UNNEST) or a VALUES row each, by size:
what each way costs the web process (CPU) and the caller (wall time), with statements
prepared as on the intake's path and without, as everywhere else (decisions §38).

    .venv/bin/python bench/insert_batches.py
    .venv/bin/python bench/insert_batches.py --sizes 2,3,5,8,10,30 --repeats 2000

Each batch is audit records (13 columns) written inside a transaction that is rolled back,
so every size inserts into the same table. The two ways alternate for each size. The tests
run `run()` on SQLite, which has no UNNEST, for a few batches so this script cannot rot.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import nullcontext

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jiayuan_bench_batches"
SIZES = (2, 3, 5, 8, 10, 30, 100, 300, 1000)
# Django's own rule (UNNEST from two rows on), and VALUES whatever the size.
WAYS = {"UNNEST": 2, "VALUES": sys.maxsize}


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def run(sizes=SIZES, *, rows_per_size: int = 3000, prepared: bool = False) -> list[dict]:
    """Per size: the CPU and wall milliseconds of one batch each way."""
    from django.db import transaction
    from django.utils import timezone

    from jiayuan.core.db import prepared_statements
    from jiayuan.core.models import AuditEvent
    from jiayuan.core.postgresql import compiler

    chosen = compiler.UNNEST_FROM_ROWS
    results = []
    try:
        for size in sizes:
            batches = max(3, rows_per_size // size)
            line = {"rows": size}
            # Each way twice, in turns, the first of each only to warm up.
            for turn in range(2):
                for way, unnest_from in WAYS.items():
                    compiler.UNNEST_FROM_ROWS = unnest_from
                    cpu, wall = time.process_time(), time.perf_counter()
                    with prepared_statements() if prepared else nullcontext():
                        for _ in range(batches):
                            with transaction.atomic():
                                AuditEvent.objects.bulk_create(
                                    AuditEvent(
                                        code="bench.batch",
                                        target_label=str(n),
                                        after={"n": n},
                                        at=timezone.now(),
                                    )
                                    for n in range(size)
                                )
                                transaction.set_rollback(True)
                    if turn:
                        line[f"{way} cpu"] = (time.process_time() - cpu) * 1000 / batches
                        line[f"{way} wall"] = (time.perf_counter() - wall) * 1000 / batches
            results.append(line)
    finally:
        compiler.UNNEST_FROM_ROWS = chosen
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=3000, help="rows per size and way")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        parser.error("UNNEST is PostgreSQL's: give a postgres:// database")
    from request_create_load import prepare_database  # a fresh database of that name

    prepare_database(args.database)
    _setup_django(args.database)
    from django.core.management import call_command

    from jiayuan.core.postgresql.compiler import UNNEST_FROM_ROWS

    call_command("migrate", verbosity=0)
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"on {args.database.rsplit('@', 1)[-1]}; the product takes UNNEST from", end=" ")
    print(f"{UNNEST_FROM_ROWS} rows on. Milliseconds per batch:")
    for prepared in (False, True):
        print(f"\n{'prepared' if prepared else 'not prepared'}")
        print("  rows   UNNEST cpu   VALUES cpu   UNNEST wall   VALUES wall")
        for line in run(sizes, rows_per_size=args.repeats, prepared=prepared):
            print(
                f"{line['rows']:>6} {line['UNNEST cpu']:>12.3f} {line['VALUES cpu']:>12.3f}"
                f" {line['UNNEST wall']:>13.3f} {line['VALUES wall']:>13.3f}"
            )


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    main()
