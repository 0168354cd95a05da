"""Nothing lost, nothing twice: the supply planner with a real Celery worker, beat and Redis.

Each test runs its own private redis-server (never the machine's shared one), its own database,
and real `celery worker` / `celery beat` processes.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import psycopg
import pytest

from tests.system import BASE_DIR, PrivateRedis, System, free_port, wait_for

pytestmark = [
    pytest.mark.integration,
    # These tests read the system's database with psycopg and exercise PostgreSQL's row locks
    # (SKIP LOCKED); CI runs them against the machine's PostgreSQL (.ci/run sets DATABASE_URL).
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="needs PostgreSQL (DATABASE_URL)",
    ),
]

SETUP = """
from supply.demo import supply_demo_load
supply_demo_load()
"""


@pytest.fixture
def private_system(tmp_path):
    redis_server = PrivateRedis(tmp_path)
    system = System(workdir=tmp_path, redis_url=redis_server.url)
    system.env.update(
        {
            "SUPPLY_PLAN_DEBOUNCE_SECONDS": "1",
            "SUPPLY_PLAN_SWEEP_SECONDS": "3",
            "SUPPLY_OVERDUE_CHECK_SECONDS": "3600",
            "CELERY_VISIBILITY_TIMEOUT": "5",
            "CELERY_UNACKED_RESTORE_SECONDS": "1",
        }
    )
    system.without_sample_survey_answers()
    system.manage("shell", "-c", SETUP)
    yield system, redis_server
    system.stop()
    redis_server.process.terminate()
    redis_server.process.wait(timeout=10)


def query(system: System, sql: str):
    with psycopg.connect(system.database_url) as connection:
        return connection.execute(sql).fetchall()


def counts(system: System) -> dict[str, int]:
    return dict(query(system, "SELECT status, count(*) FROM supply_request GROUP BY status"))


def assert_every_request_planned_exactly_once(system: System, expected: int):
    assert counts(system) == {"planned": expected}
    # Every request is in one task, and every task holds exactly its requests' quantities.
    assert query(system, "SELECT count(*) FROM supply_request WHERE task_id IS NULL") == [(0,)]
    mismatched = query(
        system,
        """
        SELECT t.id FROM supply_supplytask t
        LEFT JOIN (SELECT task_id, sum(coalesce(quantity, 1)) AS total FROM supply_request GROUP BY task_id) r
          ON r.task_id = t.id
        LEFT JOIN (SELECT task_id, sum(quantity) AS total FROM supply_leg GROUP BY task_id) l ON l.task_id = t.id
        WHERE t.quantity <> coalesce(r.total, 0) OR t.quantity <> coalesce(l.total, 0) + t.unsourced_quantity
        """,
    )
    assert mismatched == []
    # Stock reserved is exactly what the planned legs took, nothing counted twice.
    wrong_reservations = query(
        system,
        """
        SELECT s.id FROM supply_stock s
        LEFT JOIN (
            SELECT l.depot_id, t.item_id, sum(l.quantity) AS total FROM supply_leg l
            JOIN supply_supplytask t ON t.id = l.task_id WHERE l.depot_id IS NOT NULL GROUP BY 1, 2
        ) legs ON legs.depot_id = s.depot_id AND legs.item_id = s.item_id
        WHERE s.reserved <> coalesce(legs.total, 0) OR s.reserved > s.on_hand
        """,
    )
    assert wrong_reservations == []


def start_launcher(system: System) -> subprocess.Popen:
    """The system as `make run` runs it: daphne, a Celery worker and beat, under config.launcher."""
    log = (system.workdir / "launcher.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "config.launcher"],
        cwd=BASE_DIR,
        env={**system.env, "PORT": str(free_port())},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    system.processes.append(process)
    return process


def test_requests_filed_while_redis_is_down_are_all_planned_exactly_once(private_system):
    system, redis_server = private_system
    start_launcher(system)
    burst = 300
    script = textwrap.dedent(
        f"""
        import time
        from shelters.models import Shelter
        from supply.models import Item
        from supply.services import request_create
        shelters = list(Shelter.objects.order_by("id")[:15])
        items = list(Item.objects.filter(code__in=["water", "food", "blankets", "masks"]).order_by("id"))
        for index in range({burst}):
            request_create(
                shelter=shelters[index % len(shelters)], item=items[index % len(items)], actor=None,
                quantity=1 + index % 3,
            )
            time.sleep(0.02)
        print("filed")
        """
    )
    filing = system.manage_in_background("shell", "-c", script, log_name="filing")
    # Redis goes away in the middle of the burst and comes back empty: queued messages are lost.
    assert wait_for(lambda: sum(counts(system).values()) >= burst // 4, timeout=60)
    redis_server.process.terminate()
    redis_server.process.wait(timeout=10)
    filed_while_down = sum(counts(system).values())
    time.sleep(3)
    assert sum(counts(system).values()) > filed_while_down, "requests kept being filed while Redis was down"
    redis_server.start()

    assert filing.wait(timeout=120) == 0, (system.workdir / "filing.log").read_text()[-3000:]
    assert wait_for(lambda: counts(system) == {"planned": burst}, timeout=90, interval=0.5), counts(system)
    assert_every_request_planned_exactly_once(system, burst)


def test_a_worker_killed_in_the_middle_of_planning_leaves_no_duplicates(private_system):
    system, _redis_server = private_system
    system.env["SUPPLY_PLAN_BATCH"] = "40"
    total = 4000
    system.manage(
        "shell",
        "-c",
        textwrap.dedent(
            f"""
            from shelters.models import Shelter
            from supply.models import Item, Request
            from supply.services import supply_plan_soon
            shelters = list(Shelter.objects.order_by("id"))
            items = list(Item.objects.order_by("id"))
            Request.objects.bulk_create(
                Request(shelter=shelters[i % len(shelters)], item=items[(i // 7) % len(items)],
                        quantity=1 + i % 5, origin="manual")
                for i in range({total})
            )
            supply_plan_soon()
            """
        ),
    )
    worker = system.start_celery("worker", "--concurrency", "1", "--loglevel", "info")
    # Kill the whole worker (main process and pool child) once some batches are committed.
    assert wait_for(lambda: 0 < counts(system).get("planned", 0) < total, timeout=60, interval=0.02), counts(system)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    planned_before = counts(system).get("planned", 0)
    assert planned_before < total

    # No beat here: only the redelivered message (late acknowledgement) can finish the work.
    second = system.start_celery("worker", "--concurrency", "1", "--loglevel", "info", name="second")
    assert wait_for(lambda: counts(system) == {"planned": total}, timeout=120, interval=0.5), counts(system)
    assert_every_request_planned_exactly_once(system, total)
    assert second.poll() is None
