#!/usr/bin/env python
"""Check-ins against the server as `make run` serves it, at city scale, with the CPU each one costs.

    .venv/bin/python bench/checkin.py            # the full run: 100,000 and 500,000 people, ~15 min
    .venv/bin/python bench/checkin.py --quick    # one small scenario, one short round, ~2 min

One run measures, on one database (its name must contain "bench"; recreated every run):

- **The endpoint**: `POST /api/check-ins/` on `python -m config.launcher` (what `make run` starts:
  whatever HTTP servers it runs, with `config.settings.local`), one new person per request from
  --desks keep-alive connections (closed loop: the next request when the previous is answered),
  token authentication (an HQ user's DRF token, the API throttle off), a fresh Idempotency-Key
  per request. --rounds rounds, the median reported; `VACUUM (ANALYZE)` before each round.
- **Batches**: the same with --batch-size people per request (a household check-in through
  `/api/check-ins/`), reported as people/s and CPU per person; and through the batch endpoint when
  `config/api_urls.py` has one.
- **The raw-write reference** in the same run, the same rows on one psycopg connection: INSERT the
  check-in row, INSERT the stay, UPDATE the shelter's counters, COMMIT. Its rate and PostgreSQL CPU
  per row, and the endpoint's ratio to both.
- **Latency**: p50/p99 at --rate check-ins/s offered, open loop (arrivals on the clock; latency runs
  from the scheduled time, so a slow server cannot hide its queue).
- **CPU per check-in, from /proc**: *server* = utime+stime over the launcher's whole process tree
  (the launcher, every HTTP server process and worker it starts, and the time of children they
  reaped), without the Celery worker and beat and the City OS sandbox, which are reported apart
  (*celery*, *sandbox*). *PostgreSQL* = the backends connected to the bench database plus the
  server's background processes (WAL writer, checkpointer, ...): the figure the targets are judged
  on. *postgres (all)* = every postgres process, including other databases' backends and backends
  that exited (the server is shared on this machine, so that one moves with other people's work).
- **Populations**: each scenario has --populations people staying in shelters (open stays, loaded by
  INSERT ... SELECT generate_series, not the ORM; 1 in 10 with a support need; counters made to match
  through `shelter_counts_recount`; ANALYZE), and the desks check people into shelters of each
  --fills size (16 shelters of 3,000; 160 of 50, each desk turning over ten so they stay near 50),
  to show that the cost does not grow with the city or the shelter. The rest of the population
  stays in other shelters of ~190 (the city: 573,000 people in 3,050 shelters).

After every measured part, the stays it created are checked (one stay per person answered 201,
counters equal open stays in the shelters used), then checked out by SQL and the counters recounted,
so the next part starts from the same shelters. The exit status is 1 only when a check fails:
errors, missed targets and slow rounds are results. Raw results go to bench/results/checkin.jsonl
(gitignored); the server's logs to a temporary directory, kept when something failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from benchdb import recreate_database, setup_django, vacuum_analyze

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REQUEST_TIMEOUT = 30.0
OPEN_LOOP_CONNECTIONS = 64
SMALL_SHELTER_TURNOVER = 10  # a desk checking into shelters of 50 turns over this many of them
BACKGROUND_SHELTER_SIZE = 190  # the city: 573,000 people in 3,050 shelters
SUPPORT_EVERY = 10  # one person in ten has a support need

TARGETS = {
    "rate": 250.0,  # single check-ins/s
    "p99_ms": 100.0,  # at 100/s offered
    "server_ms": 5.0,  # server CPU per check-in
    "pg_ms": 2.0,  # PostgreSQL CPU per check-in
    "batch_people": 1500.0,  # people/s in batches
}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    # Nearest rank: the smallest value with at least q of the values at or below it.
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def median(values: list[float]) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(values) if values else float("nan")


# --- CPU from /proc ------------------------------------------------------------------------------

# "postgres: [cluster name: ]user database host(port) state" (Debian names its cluster "15/main").
BACKEND = re.compile(r"^postgres: (?:\S+: )?(\S+) (\S+) (\S+\(\d+\)|\[local\])")
PARALLEL = re.compile(r"parallel worker for PID (\d+)")


@dataclass
class Proc:
    ppid: int
    ticks: int  # utime + stime
    reaped: int  # cutime + cstime: children it waited for
    comm: str
    cmd: str


_cmdlines: dict[tuple[int, str], str] = {}


def processes() -> dict[int, Proc]:
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/stat") as stat:
                raw = stat.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        key = (pid, fields[19])  # start time: a pid reused by another process is another process
        if key not in _cmdlines:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    _cmdlines[key] = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                _cmdlines[key] = ""
        table[pid] = Proc(
            int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]), comm, _cmdlines[key]
        )
    return table


def descendants(table: dict[int, Proc], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, proc in table.items():
        children.setdefault(proc.ppid, []).append(pid)
    found, stack = set(), [root]
    while stack:
        pid = stack.pop()
        if pid in table and pid not in found:
            found.add(pid)
            stack.extend(children.get(pid, []))
    return found


def server_role(proc: Proc) -> str:
    """Which column a process of the launcher's tree counts in."""
    if "celery" in proc.cmd:
        return "celery"
    if "cityos.sandbox" in proc.cmd:
        return "sandbox"
    if proc.comm == "redis-server":
        return "redis"
    # The server, by part: what make run puts in front (a proxy), the HTTP servers, the launcher.
    if proc.comm == "caddy":
        return "server:proxy"
    if "daphne" in proc.cmd:
        return "server:daphne"
    if "gunicorn" in proc.cmd or "granian" in proc.cmd or "uvicorn" in proc.cmd:
        return "server:wsgi"
    if "config.launcher" in proc.cmd:
        return "server:launcher"
    return "server:other"


def postgres_role(table: dict[int, Proc], pid: int, database: str, ours: set[int]) -> str:
    proc = table[pid]
    backend = BACKEND.match(proc.cmd)
    if backend:
        return "pg_db" if backend.group(2) == database else "pg_other"
    parallel = PARALLEL.search(proc.cmd)
    if parallel:
        return "pg_db" if int(parallel.group(1)) in ours else "pg_other"
    return "pg_bg"  # the postmaster and the background processes, shared by every database


@dataclass
class CpuSnapshot:
    at: float
    ticks: dict[str, dict[int, int]]  # role -> pid -> own ticks
    reaped: dict[str, int]  # role -> ticks of reaped children, summed over its processes
    client: float


class CpuMeter:
    """CPU seconds per role between two snapshots: server, celery, sandbox (the launcher's tree),
    pg (the bench database's backends + PostgreSQL's background processes), pg_other (other
    databases' backends), redis, client (this process). A process that starts between snapshots
    counts whole; one that ends counts through its parent's reaped-children time where the parent
    is in the same role (the postmaster's goes to pg_other: it reaps every database's backends)."""

    def __init__(self, *, launcher_pid: int, database: str):
        self.launcher_pid = launcher_pid
        self.database = database

    def snapshot(self) -> CpuSnapshot:
        table = processes()
        ticks: dict[str, dict[int, int]] = {}
        reaped: Counter = Counter()
        for pid in descendants(table, self.launcher_pid):
            role = server_role(table[pid])
            ticks.setdefault(role, {})[pid] = table[pid].ticks
            reaped[role] += table[pid].reaped
        postgres = [pid for pid, proc in table.items() if proc.comm == "postgres"]
        ours = {
            pid for pid in postgres if (m := BACKEND.match(table[pid].cmd)) is not None and m.group(2) == self.database
        }
        for pid in postgres:
            role = postgres_role(table, pid, self.database, ours)
            ticks.setdefault(role, {})[pid] = table[pid].ticks
            reaped["pg_other" if role in ("pg_db", "pg_bg") else role] += table[pid].reaped
        for pid, proc in table.items():
            if proc.comm == "redis-server" and pid not in ticks.get("redis", {}):
                ticks.setdefault("redis", {})[pid] = proc.ticks
        times = os.times()
        return CpuSnapshot(time.perf_counter(), ticks, dict(reaped), times.user + times.system)

    @staticmethod
    def seconds(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
        roles = set(before.ticks) | set(after.ticks) | set(after.reaped)
        used = {}
        for role in roles:
            old = before.ticks.get(role, {})
            total = sum(t - old.get(pid, 0) for pid, t in after.ticks.get(role, {}).items())
            total += after.reaped.get(role, 0) - before.reaped.get(role, 0)
            used[role] = total / CLOCK_TICKS
        used["pg"] = used.get("pg_db", 0.0) + used.get("pg_bg", 0.0)
        used["pg_all"] = used["pg"] + used.get("pg_other", 0.0)
        used["server"] = sum(v for role, v in used.items() if role.startswith("server:"))
        used["client"] = after.client - before.client
        used["wall"] = after.at - before.at
        return used


def quiet(meter: CpuMeter, *, limit: float = 60.0) -> float:
    """Wait until the launcher's processes have finished starting up (under 10% of a core over a
    second), so no round pays for Celery's or the sandbox's start; returns the seconds waited."""
    started = time.perf_counter()
    before = meter.snapshot()
    while time.perf_counter() - started < limit:
        time.sleep(1.0)
        after = meter.snapshot()
        used = CpuMeter.seconds(before, after)
        busy = sum(v for role, v in used.items() if role.startswith("server:") or role in ("celery", "sandbox"))
        if busy < 0.1 * used["wall"]:
            break
        before = after
    return time.perf_counter() - started


# --- Database: schema-driven bulk SQL ------------------------------------------------------------


def column_values(model, given: dict[str, str]) -> tuple[list[str], list[str], list]:
    """Columns, SQL expressions and parameters for an INSERT of `model` rows: `given` maps field
    names to SQL; every other field gets its default (Python defaults too, which the database does
    not know), now() for auto timestamps, NULL or ''. So a field added later needs no bench change."""
    from django.db import connection, models

    columns, expressions, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or isinstance(f, models.GeneratedField):
            continue
        if f.name in given or f.attname in given:
            expression = given.get(f.name, given.get(f.attname))
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            expression = "now()"
        elif f.has_default():
            expression = "%s"
            params.append(f.get_db_prep_save(f.get_default(), connection))
        elif f.null:
            expression = "NULL"
        elif isinstance(f, (models.CharField, models.TextField)):
            expression = "''"
        else:
            sys.exit(f"bench: no value for {model.__name__}.{f.name}; add it to the bench's INSERT")
        columns.append(f.column)
        expressions.append(expression)
    return columns, expressions, params


def insert_select(model, given: dict[str, str], source: str, source_params: list, returning: str = "") -> list:
    from django.db import connection

    columns, expressions, params = column_values(model, given)
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM {source}{f' RETURNING {returning}' if returning else ''}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *source_params])
        return [row[0] for row in cursor.fetchall()] if returning else []


def has_column(model, name: str) -> bool:
    return any(f.column == name for f in model._meta.concrete_fields)


@dataclass
class City:
    """What is loaded: shelters by use, fresh people for the desks, the HQ token."""

    token: str = ""
    user_id: int = 0
    small: list[list[int]] = field(default_factory=list)  # per desk, its shelters of --fills[0]
    large: dict[int, list[list[int]]] = field(default_factory=dict)  # fill -> per desk, its shelters
    fresh: list[int] = field(default_factory=list)  # people staying nowhere, checked in and out again
    open_stays: int = 0
    next_code: int = 0


def make_shelters(city: City, count: int) -> list[int]:
    from django.utils import timezone

    from shelters.models import Shelter, ShelterStatus

    now = timezone.now()
    start = city.next_code
    city.next_code += count
    created = Shelter.objects.bulk_create(
        (
            Shelter(
                code=f"BENCH{n:05d}",
                name=f"ベンチ避難所{n}",
                name_en=f"Bench shelter {n}",
                # No run fills it: the automatic 満員 happens once per shelter, not per check-in.
                capacity=1_000_000,
                status=ShelterStatus.OPEN,
                opened_at=now,
                latitude="37.494700",
                longitude="139.929900",
            )
            for n in range(start, start + count)
        ),
        batch_size=2000,
    )
    return [s.pk for s in created]


def make_people(count: int, tag: str) -> list[int]:
    """`count` new evacuees by INSERT ... SELECT generate_series; one in ten with a support need."""
    from shelters.models import Evacuee, SupportCategory, SupportNeed

    ids = insert_select(
        Evacuee,
        {
            "walk_in_id": f"'W{tag}-' || g",
            "name": "'会津 太郎' || g",
            "name_kana": "'アイヅ タロウ' || g",
            "phone": "'0242-' || lpad((g %% 1000000)::text, 6, '0')",
        },
        "generate_series(1, %s) AS g",
        [count],
        returning="id",
    )
    categories = list(SupportCategory.objects.order_by("id").values_list("id", flat=True))
    if categories:
        needy = ids[::SUPPORT_EVERY]
        insert_select(
            SupportNeed,
            {"evacuee": "p.person", "category": "p.category"},
            "unnest(%s::bigint[], %s::bigint[]) AS p(person, category)",
            [needy, [categories[i % len(categories)] for i in range(len(needy))]],
        )
        if has_column(Evacuee, "support_codes"):
            # The person's own copy of their needs' codes (sorted, comma-separated), which the
            # check-in reads to move the shelter's support counters, as the services keep it.
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    UPDATE shelters_evacuee e SET support_codes = x.codes FROM (
                        SELECT sn.evacuee_id, string_agg(c.code, ',' ORDER BY c.code) AS codes
                        FROM shelters_supportneed sn JOIN shelters_supportcategory c ON c.id = sn.category_id
                        WHERE sn.evacuee_id = ANY(%s) GROUP BY sn.evacuee_id
                    ) x WHERE e.id = x.evacuee_id
                    """,
                    [needy],
                )
    return ids


def seat(people: list[int], shelters: list[int], per_shelter: int, user_id: int) -> None:
    """Open stays (inside) for `people`, `per_shelter` in each of `shelters` in order."""
    from shelters.models import Stay

    assignment = [shelters[i // per_shelter] for i in range(len(people))]
    insert_select(
        Stay,
        {
            "evacuee": "p.person",
            "shelter": "p.shelter",
            "checked_in_at": "now() - interval '1 hour'",
            "checked_in_by": str(int(user_id)),
            "mode": "'inside'",
        },
        "unnest(%s::bigint[], %s::bigint[]) AS p(person, shelter)",
        [people, assignment],
    )


def recount(shelter_ids: list[int]) -> None:
    """Counters from the open stays: occupancy and outside by SQL (fast for thousands of shelters),
    then the project's `shelter_counts_recount` for whatever else it keeps (support counters)."""
    from django.db import connection

    from shelters.services import shelter_counts_recount

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE shelters_shelter s SET occupancy = c.inside, outside_count = c.outside
            FROM (
                SELECT s.id, count(st.id) FILTER (WHERE st.mode = 'inside') AS inside,
                       count(st.id) FILTER (WHERE st.mode <> 'inside') AS outside
                FROM shelters_shelter s
                LEFT JOIN shelters_stay st ON st.shelter_id = s.id AND st.checked_out_at IS NULL
                WHERE s.id = ANY(%s) GROUP BY s.id
            ) c WHERE c.id = s.id
            """,
            [shelter_ids],
        )
    for start in range(0, len(shelter_ids), 500):
        shelter_counts_recount(shelter_ids=shelter_ids[start : start + 500], actor=None)


def load_population(city: City, *, population: int, fills: list[int], desks: int, fresh: int) -> float:
    """Bring the open stays up to `population`: the desks' shelters first (on the first call), the
    rest in shelters of ~190. Returns the seconds it took."""
    from django.db import connection

    started = time.perf_counter()
    if not city.token:
        from rest_framework.authtoken.models import Token

        from shelters.models import Role, User

        user = User.objects.create_user(username="bench-hq", password=None, role=Role.HQ)
        city.user_id, city.token = user.pk, Token.objects.create(user=user).key
        for fill in fills:
            turnover = SMALL_SHELTER_TURNOVER if fill < 1000 else 1
            ids = make_shelters(city, desks * turnover)
            people = make_people(len(ids) * fill, f"F{fill}")
            seat(people, ids, fill, city.user_id)
            city.large[fill] = [ids[d * turnover : (d + 1) * turnover] for d in range(desks)]
            city.open_stays += len(people)
        city.fresh = make_people(fresh, "N")
    missing = population - city.open_stays
    if missing > 0:
        ids = make_shelters(city, -(-missing // BACKGROUND_SHELTER_SIZE))
        people = make_people(missing, f"P{city.open_stays}")
        seat(people, ids, BACKGROUND_SHELTER_SIZE, city.user_id)
        city.open_stays += missing
    with connection.cursor() as cursor:
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM shelters_shelter")
        recount(cursor.fetchone()[0] or [])
    connection.close()
    vacuum_analyze(os.environ["DATABASE_URL"])
    return time.perf_counter() - started


def stays_watermark(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM shelters_stay").fetchone()[0]


def drained(conn: psycopg.Connection, *, quiet: float = 2.0, limit: float = 120.0) -> None:
    """Wait until the server has finished what it still had queued: requests the open loop gave up
    on are still answered, and their stays committed, after the client stopped waiting. Checking
    out before that would leave open stays behind (and the next part's people already inside)."""
    last, since, deadline = stays_watermark(conn), time.monotonic(), time.monotonic() + limit
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.25)
        now = stays_watermark(conn)
        if now != last:
            last, since = now, time.monotonic()


def support_columns(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'shelters_shelter' "
        "AND column_name IN ('support_counts', 'support_people')"
    ).fetchall()
    return {r[0] for r in rows}


def check_counters(conn: psycopg.Connection, shelter_ids: list[int] | None, *, support: bool = True) -> list[str]:
    """Each shelter's counters against its open stays (all shelters when `shelter_ids` is None):
    occupancy and outside, and where the shelter keeps them, the support counters, counted as
    access/figures.py counts them (distinct people with a need among the open stays)."""
    extra = support_columns(conn) if support else set()
    where = "" if shelter_ids is None else "WHERE s.id = ANY(%(ids)s)"
    rows = conn.execute(
        f"""
        WITH open_stays AS (
            SELECT st.shelter_id, st.evacuee_id, st.mode FROM shelters_stay st
            WHERE st.checked_out_at IS NULL {"" if shelter_ids is None else "AND st.shelter_id = ANY(%(ids)s)"}
        ), needs AS (
            SELECT o.shelter_id, c.code, count(DISTINCT o.evacuee_id) AS n
            FROM open_stays o JOIN shelters_supportneed sn ON sn.evacuee_id = o.evacuee_id
            JOIN shelters_supportcategory c ON c.id = sn.category_id GROUP BY o.shelter_id, c.code
        ), people AS (
            SELECT o.shelter_id, count(DISTINCT o.evacuee_id) AS n FROM open_stays o
            JOIN shelters_evacuee e ON e.id = o.evacuee_id
            WHERE e.requires_evacuation_support
               OR EXISTS (SELECT 1 FROM shelters_supportneed sn WHERE sn.evacuee_id = o.evacuee_id)
            GROUP BY o.shelter_id
        ), counted AS (
            SELECT shelter_id, count(*) FILTER (WHERE mode = 'inside') AS inside,
                   count(*) FILTER (WHERE mode <> 'inside') AS outside
            FROM open_stays GROUP BY shelter_id
        )
        SELECT s.id, s.occupancy, s.outside_count, coalesce(c.inside, 0), coalesce(c.outside, 0),
               {"s.support_people" if "support_people" in extra else "NULL"}, coalesce(p.n, 0),
               {"s.support_counts" if "support_counts" in extra else "NULL"},
               (SELECT coalesce(jsonb_object_agg(code, n), '{{}}') FROM needs WHERE needs.shelter_id = s.id)
        FROM shelters_shelter s
        LEFT JOIN counted c ON c.shelter_id = s.id LEFT JOIN people p ON p.shelter_id = s.id
        {where}
        """,
        {"ids": shelter_ids},
    ).fetchall()
    problems = []
    for sid, occupancy, outside, inside_n, outside_n, kept_people, people, kept_counts, counts in rows:
        if (occupancy, outside) != (inside_n, outside_n):
            problems.append(f"shelter {sid}: counters {occupancy}/{outside}, open stays {inside_n}/{outside_n}")
        if kept_people is not None and kept_people != people:
            problems.append(f"shelter {sid}: support_people {kept_people}, counted {people}")
        if kept_counts is not None and {k: v for k, v in kept_counts.items() if v} != counts:
            problems.append(f"shelter {sid}: support_counts {kept_counts}, counted {counts}")
    return problems


def check_and_reset(
    conn: psycopg.Connection,
    *,
    watermark: int,
    people_created: int,
    unanswered_people: int,
    shelters: list[int],
    support: bool = True,
) -> list[str]:
    """One stay per person answered 201 (an abandoned request may have committed), counters equal
    open stays; then the part's stays are checked out and the counters recounted. `support=False`
    for the raw write, which moves occupancy only."""
    problems = check_counters(conn, shelters, support=support)
    stays = conn.execute(
        "SELECT count(*) FROM shelters_stay WHERE id > %s AND check_in_id IS NOT NULL", [watermark]
    ).fetchone()[0]
    if not people_created <= stays <= people_created + unanswered_people:
        problems.append(f"{stays} stays written, {people_created} people answered 201, {unanswered_people} abandoned")
    conn.execute(
        "UPDATE shelters_stay SET checked_out_at = clock_timestamp(), destination = 'home' "
        "WHERE id > %s AND checked_out_at IS NULL",
        [watermark],
    )
    conn.commit()
    recount(shelters)
    from django.db import connection

    connection.close()
    return problems


# --- The server, as `make run` starts it ---------------------------------------------------------


class Server:
    """`python -m config.launcher`, the process `make run` ends in, on a free port with the bench's
    database and Redis. Whatever servers it starts, the bench talks to its one PORT."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = env
        self.log_path = log_dir / "launcher.log"
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{env['PORT']}"

    def start(self, token: str) -> None:
        with open(self.log_path, "wb") as log:  # the child keeps its own copy of the file
            self.process = self._spawn(log)
        deadline = time.monotonic() + 120
        while not self._answers(token):
            if self.process.poll() is not None:
                sys.exit(f"The launcher exited while starting; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                sys.exit(f"{self.base} did not answer within 120 s; see {self.log_path}")
            time.sleep(0.5)

    def _spawn(self, log) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "config.launcher"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so a Ctrl-C on the bench reaches the servers only through stop().
            start_new_session=True,
        )

    def _answers(self, token: str) -> bool:
        request = urllib.request.Request(
            f"{self.base}/api/shelters/?limit=1", headers={"Authorization": f"Token {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status == 200
        except urllib.error.HTTPError as error:
            self.stop()
            sys.exit(f"{self.base} answered {error.code}: {error.read()[:300]!r}")
        except (urllib.error.URLError, OSError):
            return False

    def tree(self) -> dict[str, list[str]]:
        """The launcher's processes by role, for the report."""
        table = processes()
        found: dict[str, list[str]] = {}
        for pid in sorted(descendants(table, self.process.pid)):
            found.setdefault(server_role(table[pid]), []).append(f"{pid} {table[pid].cmd[:110]}")
        return found

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        # SIGINT is Ctrl-C: the launcher then stops its servers and Celery itself.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this bench started, by its id
            self.process.wait(timeout=10)


# --- HTTP load ----------------------------------------------------------------------------------


class RawClient:
    """Keep-alive HTTP/1.1 connections to one server, at most `size` open; further requests wait.

    A few hundred lines less than httpx and a fraction of its CPU per request (0.3-0.6 ms against
    6.6 ms measured here), which matters when the client shares two cores with the server; and its
    queue stays cheap with thousands of requests waiting in an overloaded open-loop run.
    """

    def __init__(self, base: str, token: str, size: int):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.token = token
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(size)

    async def post(self, path: str, body: bytes, key: str) -> tuple[int, bytes]:
        async with self.slots:
            reader, writer = self.idle.pop() if self.idle else await asyncio.open_connection(self.host, self.port)
            try:
                writer.write(
                    (
                        f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                        f"Authorization: Token {self.token}\r\nContent-Type: application/json\r\n"
                        f"Idempotency-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n"
                    ).encode()
                    + body
                )
                status, content, keep_alive = await self._read_response(reader)
            except BaseException:
                writer.close()
                raise
            if keep_alive:
                self.idle.append((reader, writer))
            else:
                writer.close()
            return status, content

    @staticmethod
    async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, keep_alive = None, False, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value
            elif name == b"connection":
                keep_alive = value != b"close"
        if chunked:
            parts = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                parts.append(await reader.readexactly(size))
                await reader.readline()
            await reader.readline()
            return status, b"".join(parts), keep_alive
        if length is not None:
            return status, await reader.readexactly(length), keep_alive
        return status, await reader.read(), False

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


@dataclass
class Kind:
    """What one request is: a path and a body for `people` people."""

    name: str
    path: str
    people: int

    def body(self, shelter_id: int, people: list[int]) -> bytes:
        if self.path == "/api/check-ins/":
            return json.dumps({"shelter": shelter_id, "evacuees": people}).encode()
        return batch_body(shelter_id, people)


def batch_body(shelter_id: int, people: list[int]) -> bytes:
    """The batch endpoint's body: one check-in item per person, each with its own idempotency key."""
    items = [
        {"type": "check_in", "idempotency_key": uuid.uuid4().hex, "shelter": shelter_id, "evacuees": [p]}
        for p in people
    ]
    return json.dumps({"items": items}).encode()


def batch_path() -> str | None:
    """The batch endpoint (issue 12, part 4), when config/api_urls.py has one: `/api/<its route>`."""
    from django.urls import URLPattern

    from config import api_urls

    for pattern in api_urls.urlpatterns:
        if isinstance(pattern, URLPattern) and "batch" in str(pattern.pattern) and "<" not in str(pattern.pattern):
            return f"/api/{pattern.pattern}"
    return None


@dataclass
class Part:
    """One measured part: its answers, latencies and CPU."""

    name: str
    kind: str = ""
    requests: int = 0  # 201s counted in the window
    people: int = 0  # people in those 201s
    created_people: int = 0  # people in every 201, warm-up included, for the check
    unanswered_people: int = 0
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    sessions: int = 0  # new PostgreSQL sessions on the bench database
    ran_out: bool = False
    problems: list[str] = field(default_factory=list)

    def record(self, status: int | None, text: str, latency: float, people: int, counted: bool) -> None:
        """`people`: how many the answer says were checked in (a batch may create some items only)."""
        self.created_people += people
        if status == 201:
            if counted:
                self.requests += 1
                self.people += people
                self.latencies.append(latency)
        else:
            key = str(status) if status is not None else text.split(":")[0]
            self.errors[key] += 1
            if len(self.error_samples) < 3:
                self.error_samples.append(f"{key}: {' '.join(text.split())[:200]}")

    def per_item(self, role: str) -> float:
        return 1000 * self.cpu.get(role, 0.0) / self.people if self.people else float("nan")

    def summary(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "people_per_s": round(self.people / self.seconds, 1) if self.seconds else 0,
            "p50_ms": round(1000 * percentile(self.latencies, 0.5), 1),
            "p99_ms": round(1000 * percentile(self.latencies, 0.99), 1),
            "cpu_ms_per_person": {role: round(self.per_item(role), 3) for role in self.cpu if role != "wall"},
            "cpu_percent_of_a_core": {
                role: round(100 * v / self.cpu["wall"]) for role, v in self.cpu.items() if role != "wall"
            }
            if self.cpu.get("wall")
            else {},
            "pg_sessions_per_request": round(self.sessions / max(self.requests, 1), 3),
            "errors": dict(self.errors),
            "error_samples": self.error_samples,
            "unanswered_people": self.unanswered_people,
            "ran_out_of_people": self.ran_out,
            "seconds": round(self.seconds, 2),
            "problems": self.problems,
        }

    @property
    def rate(self) -> float:
        return self.people / self.seconds if self.seconds else 0.0


class People:
    """The fresh people, handed out in turn; each part starts from the beginning (they were
    checked out after the previous part)."""

    def __init__(self, ids: list[int]):
        self.ids, self.next = ids, 0

    def take(self, n: int) -> list[int] | None:
        if self.next + n > len(self.ids):
            return None
        self.next += n
        return self.ids[self.next - n : self.next]


def sessions(monitor: psycopg.Connection) -> int:
    return monitor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


async def closed_loop(
    part: Part, *, kind: Kind, client: RawClient, desks: list[list[int]], people: People, warmup: float,
    duration: float, meter: CpuMeter, monitor: psycopg.Connection,
) -> None:  # fmt: skip
    """Each desk sends its next request as soon as the previous one is answered; the CPU and the
    answers are counted between the end of the warm-up and the end of the window."""
    started = time.perf_counter()
    measure_from, stop_at = started + warmup, started + warmup + duration
    marks: dict[str, tuple] = {}

    async def mark(name: str, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        marks[name] = (meter.snapshot(), sessions(monitor))

    async def desk(index: int) -> None:
        shelters = desks[index % len(desks)]
        turn = 0
        while time.perf_counter() < stop_at:
            batch = people.take(kind.people)
            if batch is None:
                part.ran_out = True
                return
            shelter = shelters[turn % len(shelters)]
            turn += 1
            sent = time.perf_counter()
            status, text, created = await send(client, kind, shelter, batch)
            done = time.perf_counter()
            part.record(status, text, done - sent, created, counted=measure_from <= done <= stop_at)

    await asyncio.gather(mark("from", measure_from), mark("to", stop_at), *(desk(i) for i in range(len(desks))))
    part.seconds = duration
    (before, s0), (after, s1) = marks["from"], marks["to"]
    part.cpu, part.sessions = CpuMeter.seconds(before, after), s1 - s0


async def open_loop(
    part: Part, *, kind: Kind, client: RawClient, desks: list[list[int]], people: People, rate: float,
    duration: float, meter: CpuMeter, monitor: psycopg.Connection,
) -> None:  # fmt: skip
    """Arrivals on a fixed schedule whatever the server does; latency from the scheduled time."""
    total = int(rate * duration)
    before, s0 = meter.snapshot(), sessions(monitor)
    started = time.perf_counter() + 0.05
    finished: list[float] = []

    async def one(index: int, scheduled: float) -> None:
        batch = people.take(kind.people)
        if batch is None:
            part.ran_out = True
            return
        shelters = desks[index % len(desks)]
        status, text, created = await send(client, kind, shelters[(index // len(desks)) % len(shelters)], batch)
        done = time.perf_counter()
        finished.append(done)
        part.record(status, text, done - scheduled, created, counted=True)

    tasks = []
    for index in range(total):
        scheduled = started + index / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(index, scheduled)))
    # An overloaded server could keep the run going for minutes: a grace period, then stop.
    _, pending = await asyncio.wait(tasks, timeout=max(10.0, duration / 2))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    part.unanswered_people = len(pending) * kind.people
    part.seconds = max(duration, (max(finished) - started) if finished else duration)
    part.cpu, part.sessions = CpuMeter.seconds(before, meter.snapshot()), sessions(monitor) - s0


async def send(client: RawClient, kind: Kind, shelter_id: int, people: list[int]) -> tuple[int | None, str, int]:
    """(status, error text, people checked in). The batch endpoint answers 200 with a status per
    item: that counts as a 201 when every item was created, else as a 207 with the created ones."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            status, content = await client.post(kind.path, kind.body(shelter_id, people), uuid.uuid4().hex)
    except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError) as error:
        return None, f"{type(error).__name__}: {error}", 0
    if kind.path == "/api/check-ins/":
        return status, "" if status == 201 else content.decode(errors="replace"), len(people) if status == 201 else 0
    created = batch_created(content) if status == 200 else 0
    if status == 200:
        status = 201 if created == len(people) else 207
    return status, "" if status == 201 else content.decode(errors="replace"), created


def batch_created(content: bytes) -> int:
    try:
        items = json.loads(content)["items"]
        return sum(1 for item in items if item.get("status") == 201)
    except (ValueError, KeyError, TypeError, AttributeError):
        return 0


# --- The raw-write reference --------------------------------------------------------------------


def raw_statements() -> tuple[str, list, str, list, str]:
    """The three statements of a check-in without the application: INSERT the check-in row, INSERT
    the stay, UPDATE the shelter's counters; built from the models, so new columns are filled."""
    from shelters.models import CheckIn, Stay

    c_cols, c_exprs, c_params = column_values(
        CheckIn,
        {"idempotency_key": "%(key)s", "shelter": "%(shelter)s", "performed_by": "%(user)s", "performed_at": "now()"},
    )
    s_cols, s_exprs, s_params = column_values(
        Stay,
        {
            "evacuee": "%(person)s",
            "shelter": "%(shelter)s",
            "check_in": "%(check_in)s",
            "mode": "'inside'",
            "checked_in_at": "now()",
            "checked_in_by": "%(user)s",
        },
    )

    def named(expressions: list[str], params: list, prefix: str) -> tuple[list[str], dict]:
        out, values, n = [], {}, 0
        for expression in expressions:
            if expression == "%s":
                out.append(f"%({prefix}{n})s")
                values[f"{prefix}{n}"] = params[n]
                n += 1
            else:
                out.append(expression)
        return out, values

    c_exprs, c_values = named(c_exprs, c_params, "c")
    s_exprs, s_values = named(s_exprs, s_params, "s")
    insert_check_in = f"INSERT INTO shelters_checkin ({', '.join(c_cols)}) VALUES ({', '.join(c_exprs)}) RETURNING id"
    insert_stay = f"INSERT INTO shelters_stay ({', '.join(s_cols)}) VALUES ({', '.join(s_exprs)})"
    update = (
        "UPDATE shelters_shelter SET occupancy = occupancy + 1, version = version + 1, updated_at = now() "
        "WHERE id = %(shelter)s"
    )
    return insert_check_in, c_values, insert_stay, s_values, update


def raw_reference(
    part: Part, *, url: str, desks: list[list[int]], people: People, user_id: int, seconds: float, meter: CpuMeter,
) -> None:  # fmt: skip
    insert_check_in, c_values, insert_stay, s_values, update = raw_statements()
    shelters = [s for desk in desks for s in desk]
    with psycopg.connect(url) as conn:
        conn.execute("SELECT 1")
        conn.commit()
        before = meter.snapshot()
        stop_at = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < stop_at:
            batch = people.take(1)
            if batch is None:
                part.ran_out = True
                break
            shelter = shelters[n % len(shelters)]
            n += 1
            started = time.perf_counter()
            values = {"key": uuid.uuid4().hex, "shelter": shelter, "user": user_id, "person": batch[0]}
            check_in = conn.execute(insert_check_in, {**values, **c_values}).fetchone()[0]
            conn.execute(insert_stay, {**values, **s_values, "check_in": check_in})
            conn.execute(update, values)
            conn.commit()
            part.record(201, "", time.perf_counter() - started, 1, counted=True)
        part.cpu = CpuMeter.seconds(before, meter.snapshot())
        part.seconds = part.cpu["wall"]


# --- One scenario ---------------------------------------------------------------------------------


@dataclass
class Scenario:
    population: int
    fill: int
    people_in_database: int = 0
    parts: list[Part] = field(default_factory=list)
    profile: dict = field(default_factory=dict)

    def of(self, kind: str) -> list[Part]:
        return [p for p in self.parts if p.kind == kind]


def scenario_index(scenario: Scenario, args) -> int:
    return args.populations.index(scenario.population) * len(args.fills) + args.fills.index(scenario.fill)


def run_scenario(
    scenario: Scenario, *, args, city: City, server: Server, meter: CpuMeter, monitor: psycopg.Connection, log,
) -> None:  # fmt: skip
    desks = city.large[scenario.fill]
    shelters = [s for desk in desks for s in desk]
    kinds = [
        Kind("single", "/api/check-ins/", 1),
        Kind(f"household of {args.batch_size}", "/api/check-ins/", args.batch_size),
    ]
    path = batch_path()
    if path:
        kinds.append(Kind(f"batch endpoint, {args.batch_size} items", path, args.batch_size))
    label = f"{scenario.population:,} people, shelters of {scenario.fill:,}"

    def measure(part: Part, run) -> None:
        vacuum_analyze(args.database_url)
        watermark = stays_watermark(monitor)
        run()
        if part.unanswered_people or any(not key.isdigit() for key in part.errors):
            drained(monitor)
        part.problems = check_and_reset(
            monitor,
            watermark=watermark,
            people_created=part.created_people,
            unanswered_people=part.unanswered_people,
            shelters=shelters,
            support=part.kind != "raw",
        )
        scenario.parts.append(part)
        s = part.summary()
        cpu = s["cpu_ms_per_person"]
        log(
            f"  {label}: {part.name}: {part.rate:.0f} people/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms; "
            f"CPU ms/person server {cpu.get('server', 0):.2f}, pg {cpu.get('pg', 0):.2f} "
            f"(all postgres {cpu.get('pg_all', 0):.2f}), celery {cpu.get('celery', 0):.2f}, "
            f"client {cpu.get('client', 0):.2f}; server by part "
            + ", ".join(f"{k.split(':')[1]} {v:.2f}" for k, v in sorted(cpu.items()) if k.startswith("server:"))
            + f"; errors {dict(part.errors) or '-'}"
            + (f"; PROBLEMS {part.problems[:3]}" if part.problems else "")
        )

    for number in range(1, args.rounds + 1):
        for kind in kinds:
            part = Part(f"round {number}, {kind.name}", kind.name)
            client = RawClient(server.base, city.token, args.desks)

            async def go(part=part, kind=kind, client=client) -> None:
                await closed_loop(
                    part, kind=kind, client=client, desks=desks, people=People(city.fresh), warmup=args.warmup,
                    duration=args.duration, meter=meter, monitor=monitor,
                )  # fmt: skip
                await client.close()

            profiles = []
            if args.profile and number == 1 and kind.people == 1 and not scenario_index(scenario, args):
                pids = [p for role, members in server.tree().items() if role in ("server:wsgi", "server:daphne")
                        for p in (int(m.split()[0]) for m in members)]  # fmt: skip
                profiles = start_profiles(args.profile, pids, args.warmup + args.duration, RESULTS_DIR)
            measure(part, lambda go=go: asyncio.run(go()))
            for process, _ in profiles:
                process.wait(timeout=60)
            if profiles:
                scenario.profile = summarize_profile([output for _, output in profiles])
        part = Part(f"round {number}, raw write", "raw")
        measure(
            part,
            lambda part=part: raw_reference(
                part, url=args.database_url, desks=desks, people=People(city.fresh), user_id=city.user_id,
                seconds=args.raw_seconds, meter=meter,
            ),
        )  # fmt: skip
    part = Part(f"{args.rate:.0f}/s offered, open loop", "open")
    client = RawClient(server.base, city.token, OPEN_LOOP_CONNECTIONS)

    async def go_open() -> None:
        await open_loop(
            part, kind=kinds[0], client=client, desks=desks, people=People(city.fresh), rate=args.rate,
            duration=args.open_duration, meter=meter, monitor=monitor,
        )  # fmt: skip
        await client.close()

    measure(part, lambda: asyncio.run(go_open()))


# --- Profile of the server in one round (--profile) ----------------------------------------------

# py-spy names frames "function (package/module.py:line)". Self time is charged to the innermost
# frame that belongs to one of these groups, checked in order.
SELF_TIME_GROUPS = [
    ("psycopg (driver)", ("(psycopg/",)),
    ("json", ("(json/",)),
    ("logging", ("(logging/",)),
    ("channels, redis (events)", ("(channels/", "(channels_redis/", "(redis/", "(msgpack/")),
    ("asgiref (sync/async hops)", ("(asgiref/",)),
    ("threads (start, join, locks)", ("(threading.py", "(concurrent/futures/")),
    (
        "HTTP server (daphne, twisted, asyncio, gunicorn)",
        ("(daphne/", "(twisted/", "(asyncio/", "(selectors.py", "(gunicorn/"),
    ),
    ("Django ORM and SQL compiler", ("(django/db/",)),
    ("DRF", ("(rest_framework/", "(django_filters/")),
    ("Django request, middleware, i18n", ("(django/", "(whitenoise/")),
    ("application code", ("(shelters/", "(dashboard/", "(config/")),
]
# Inclusive time of the parts of a request: (name, function, module) matched anywhere in the stack.
INCLUSIVE_PARTS = [
    ("check-in view", "CheckInViewSet.create", "shelters/api.py"),
    ("batch view", "BatchView.post", "shelters/api_batch.py"),
    ("stay_check_in service", "stay_check_in", "shelters/"),
    ("after-commit events", "BaseDatabaseWrapper.run_and_clear_commit_hooks", "django/db/backends/base/base.py"),
    ("DB connect", "BaseDatabaseWrapper.connect", "django/db/backends/base/base.py"),
    ("SQL execute (driver)", "Cursor.execute", "psycopg/"),
    ("token authentication", "TokenAuthentication.authenticate", "rest_framework/authentication.py"),
    ("response serializer", "ListSerializer.data", "rest_framework/serializers.py"),
    ("new thread per request", "Thread.start", "threading.py"),
    ("daphne access log", "", "daphne/access.py"),
]


def start_profiles(spy: str, pids: list[int], seconds: float, out_dir: Path) -> list[tuple[subprocess.Popen, Path]]:
    runs = []
    for pid in pids:
        output = out_dir / f"http-{pid}.txt"
        command = [str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250"]
        # --gil: only samples holding the GIL, i.e. Python burning CPU, not threads waiting on I/O.
        command += ["--gil", "--nonblocking", "--subprocesses", "--format", "raw", "--output", str(output)]
        runs.append((subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), output))
    return runs


def summarize_profile(files: list[Path]) -> dict:
    samples = 0
    self_time: Counter = Counter()
    inclusive: Counter = Counter()
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            frames = stack.split(";")
            samples += n
            for frame in reversed(frames):
                group = next((g for g, needles in SELF_TIME_GROUPS if any(x in frame for x in needles)), None)
                if group:
                    self_time[group] += n
                    break
            else:
                self_time["other (stdlib)"] += n
            for name, function, filename in INCLUSIVE_PARTS:
                if any(f.startswith(function) and f"({filename}" in f for f in frames):
                    inclusive[name] += n
    if not samples:
        return {}
    return {
        "samples": samples,
        "self_time_percent": {k: round(100 * v / samples, 1) for k, v in self_time.most_common()},
        "inclusive_percent": {name: round(100 * inclusive[name] / samples, 1) for name, _, _ in INCLUSIVE_PARTS},
    }


# --- Summary ---------------------------------------------------------------------------------------


def figures(scenario: Scenario, kind: str) -> dict:
    """Medians over the rounds of one kind of part."""
    parts = scenario.of(kind)
    return {
        "rate": median([p.rate for p in parts]),
        "server": median([p.per_item("server") for p in parts]),
        "pg": median([p.per_item("pg") for p in parts]),
        "pg_all": median([p.per_item("pg_all") for p in parts]),
        "celery": median([p.per_item("celery") for p in parts]),
        "p50": median([1000 * percentile(p.latencies, 0.5) for p in parts]),
        "p99": median([1000 * percentile(p.latencies, 0.99) for p in parts]),
        "rates": [round(p.rate) for p in parts],
        "server_parts": {
            role.split(":")[1]: median([p.per_item(role) for p in parts])
            for role in sorted({r for p in parts for r in p.cpu if r.startswith("server:")})
        },
        "errors": sum((p.errors for p in parts), Counter()),
        "unanswered": sum(p.unanswered_people for p in parts),
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_summary(result: dict, scenarios: list[Scenario], batch_size: int, rate: float) -> None:
    t = TARGETS
    print()
    print(
        f"== check-in benchmark, git {result['git']}, {result['machine']['cores']} cores, "
        f"load {result['machine']['load_at_start']:.1f} at start, {result['args']['desks']} desks, "
        f"median of {result['args']['rounds']} round(s) of {result['args']['duration']:.0f} s"
    )
    print("server processes (the launcher's tree):")
    for role, members in result["server_tree"].items():
        for member in members:
            print(f"   {role:8} {member}")
    first = scenarios[0]
    single, household, raw = (
        figures(first, "single"),
        figures(first, f"household of {batch_size}"),
        figures(first, "raw"),
    )
    batch_kind = next((p.kind for p in first.parts if p.kind.startswith("batch endpoint")), None)
    print()
    print(f"As issue 12's table ({first.population:,} people staying, shelters of {first.fill:,}):")
    print()
    print("| what | check-ins/s | server CPU per check-in | PostgreSQL CPU per check-in |")
    print("|---|---|---|---|")
    print(
        f"| `/api/check-ins/` as `make run` serves it | {single['rate']:,.0f} (target ≥ {t['rate']:.0f}: "
        f"{verdict(single['rate'] >= t['rate'])}) | {single['server']:.2f} ms (≤ {t['server_ms']:.0f}: "
        f"{verdict(single['server'] <= t['server_ms'])}) | {single['pg']:.2f} ms (≤ {t['pg_ms']:.0f}: "
        f"{verdict(single['pg'] <= t['pg_ms'])}) |"
    )
    for name, data in (
        (f"the same, {batch_size} people per request (a household)", household),
        *([(f"the batch endpoint, {batch_size} items per request", figures(first, batch_kind))] if batch_kind else []),
    ):
        print(
            f"| {name} | {data['rate']:,.0f} people/s (target ≥ {t['batch_people']:,.0f}: "
            f"{verdict(data['rate'] >= t['batch_people'])}) | {data['server']:.2f} ms per person | "
            f"{data['pg']:.2f} ms per person |"
        )
    print(f"| reference: the raw 3-statement write, one connection | {raw['rate']:,.0f} | – | {raw['pg']:.2f} ms |")
    print()
    print(
        "server CPU per single check-in by process: "
        + ", ".join(f"{name} {ms:.2f} ms" for name, ms in single["server_parts"].items())
        + f"; Celery worker and beat (not in the server column) {single['celery']:.2f} ms"
    )
    print(
        f"ratio endpoint / raw write: rate {single['rate'] / raw['rate']:.3f}, "
        f"PostgreSQL CPU {single['pg'] / raw['pg']:.1f}×"
        if raw["rate"] and raw["pg"]
        else "ratio: no raw figure"
    )
    print()
    print("Every scenario (medians; CPU in ms per check-in or per person; p99 at the open-loop rate):")
    print()
    print(
        "| people staying | shelter | check-ins/s | server | PostgreSQL (all postgres) | celery | "
        f"p50 / p99 at {rate:.0f}/s | raw write/s, PG | ratio | household {batch_size}: people/s, server, PG |"
        + (" batch endpoint: people/s, server, PG |" if batch_kind else "")
    )
    print("|---|---|---|---|---|---|---|---|---|---|" + ("---|" if batch_kind else ""))
    for scenario in scenarios:
        s = figures(scenario, "single")
        h = figures(scenario, f"household of {batch_size}")
        r = figures(scenario, "raw")
        o = figures(scenario, "open")
        late = f"{o['p50']:.0f} / {o['p99']:.0f} ms" + (
            f" ({sum(o['errors'].values())} errors, {o['unanswered']} unanswered)"
            if o["errors"] or o["unanswered"]
            else ""
        )
        line = (
            f"| {scenario.population:,} | {scenario.fill:,} | {s['rate']:,.0f} ({', '.join(map(str, s['rates']))}) | "
            f"{s['server']:.2f} | {s['pg']:.2f} ({s['pg_all']:.2f}) | {s['celery']:.2f} | {late} | "
            f"{r['rate']:,.0f}, {r['pg']:.2f} | {s['rate'] / r['rate'] if r['rate'] else float('nan'):.3f} | "
            f"{h['rate']:,.0f}, {h['server']:.2f}, {h['pg']:.2f} |"
        )
        if batch_kind:
            b = figures(scenario, batch_kind)
            line += f" {b['rate']:,.0f}, {b['server']:.2f}, {b['pg']:.2f} |"
        print(line)
    print()
    worst = {
        "rate": min(figures(s, "single")["rate"] for s in scenarios),
        "p99": max(figures(s, "open")["p99"] for s in scenarios),
        "server": max(figures(s, "single")["server"] for s in scenarios),
        "pg": max(figures(s, "single")["pg"] for s in scenarios),
        "batch": min(
            max(figures(s, k)["rate"] for k in {p.kind for p in s.parts} if k.startswith(("household", "batch")))
            for s in scenarios
        ),
    }
    print(
        "targets over every scenario (worst case): "
        f"≥ {t['rate']:.0f} check-ins/s: {worst['rate']:.0f} {verdict(worst['rate'] >= t['rate'])}; "
        f"p99 ≤ {t['p99_ms']:.0f} ms at {rate:.0f}/s: {worst['p99']:.0f} ms {verdict(worst['p99'] <= t['p99_ms'])}; "
        f"server CPU ≤ {t['server_ms']:.0f} ms: {worst['server']:.2f} {verdict(worst['server'] <= t['server_ms'])}; "
        f"PostgreSQL CPU ≤ {t['pg_ms']:.0f} ms: {worst['pg']:.2f} {verdict(worst['pg'] <= t['pg_ms'])}; "
        f"batches ≥ {t['batch_people']:,.0f} people/s: {worst['batch']:,.0f} "
        f"{verdict(worst['batch'] >= t['batch_people'])}"
    )
    if first.profile:
        profile = first.profile
        print(f"py-spy of the HTTP servers in round 1 ({profile['samples']} samples holding the GIL), self time:")
        print("   " + ", ".join(f"{k} {v}%" for k, v in profile["self_time_percent"].items()))
        print("   inclusive: " + ", ".join(f"{k} {v}%" for k, v in profile["inclusive_percent"].items()))
    errors = Counter()
    for scenario in scenarios:
        for part in scenario.parts:
            errors.update(part.errors)
            for sample in part.error_samples[:1]:
                print(f"   error in {scenario.population:,}/{scenario.fill}, {part.name}: {sample}")
    if errors:
        print(f"errors (not counted in the rates): {dict(errors)}")
    sessions_per = max(p.summary()["pg_sessions_per_request"] for s in scenarios for p in s.parts if p.kind == "single")
    if sessions_per > 0.05:
        print(
            f"note: up to {sessions_per} new PostgreSQL sessions per request: backends that ended are only in "
            "'all postgres', not in the PostgreSQL column."
        )
    print(
        "consistency (one stay per person answered 201, counters equal open stays): "
        + ("OK" if result["consistent"] else "MISMATCH")
    )
    for problem in result["problems"][:10]:
        print(f"   {problem}")


# --- Main ----------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/shelter_bench_ci")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--redis-prefix", default="bench-checkin")
    parser.add_argument("--quick", action="store_true", help="one small scenario, one short round (~2 min)")
    parser.add_argument("--populations", default="100000,500000", help="people staying in shelters, one scenario each")
    parser.add_argument("--fills", default="50,3000", help="people inside the desks' shelters, one scenario each")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds counted in each closed-loop round")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each round's window")
    parser.add_argument("--desks", type=int, default=16, help="keep-alive connections, one desk each")
    parser.add_argument("--batch-size", type=int, default=10, help="people per request in the batch parts")
    parser.add_argument("--rate", type=float, default=100.0, help="check-ins/s offered in the open-loop part")
    parser.add_argument("--open-duration", type=float, default=15.0)
    parser.add_argument("--raw-seconds", type=float, default=3.0)
    parser.add_argument("--fresh", type=int, default=60_000, help="people staying nowhere, for the desks")
    parser.add_argument(
        "--profile",
        metavar="PY_SPY",
        help="py-spy (its path) samples the HTTP server processes in the first scenario's first round of "
        "single check-ins; it costs them some CPU, so profile in a run of its own",
    )
    args = parser.parse_args()
    if args.quick:
        args.populations, args.fills, args.rounds = "10000", "50", 1
        args.duration, args.warmup, args.open_duration, args.raw_seconds = 3.0, 1.0, 4.0, 1.0
        args.fresh = min(args.fresh, 12_000)
    args.populations = sorted(int(p) for p in str(args.populations).split(","))
    args.fills = sorted(int(f) for f in str(args.fills).split(","))
    needed = sum(args.desks * (SMALL_SHELTER_TURNOVER if f < 1000 else 1) * f for f in args.fills)
    if args.populations[0] < needed:
        parser.error(f"--populations: the desks' shelters alone hold {needed:,} people")
    return args


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {message}", flush=True)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="bench-checkin-"))
    database = recreate_database(args.database_url)
    shared = {
        "REDIS_URL": args.redis_url,
        "REDIS_PREFIX": args.redis_prefix,
        # A private var/: the bench's secret key, Celery beat schedule and sandbox stay out of `make run`'s.
        "VAR_DIR": str(work_dir / "var"),
    }
    os.environ.update(shared)
    log(f"database {database} recreated; migrating")
    setup_django(args.database_url)
    # Killed by a timeout: still stop the server (its own process group) through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    env = {
        **os.environ,
        **shared,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",  # what `make run` serves (launcher's default)
        "DATABASE_URL": args.database_url,
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
        # One HQ token sends every check-in: the bench measures the server, not the API throttle.
        "API_THROTTLE_USER": "",
    }
    for name in ("DEBUG", "DB_POOL", "CONN_MAX_AGE"):  # the server decides these as `make run` would
        env.pop(name, None)
    city = City()
    scenarios: list[Scenario] = []
    loads: list[dict] = []
    server = Server(env, work_dir)
    # Autocommit: an open transaction here would keep VACUUM from removing the rounds' dead rows.
    monitor = psycopg.connect(args.database_url, autocommit=True)
    problems: list[str] = []
    try:
        for population in args.populations:
            seconds = load_population(city, population=population, fills=args.fills, desks=args.desks, fresh=args.fresh)
            count = monitor.execute("SELECT count(*) FROM shelters_evacuee").fetchone()[0]
            shelters = monitor.execute("SELECT count(*) FROM shelters_shelter").fetchone()[0]
            loads.append(
                {"open_stays": city.open_stays, "shelters": shelters, "people": count, "seconds": round(seconds)}
            )
            log(
                f"loaded: {city.open_stays:,} people staying in {shelters:,} shelters, {count:,} people in the "
                f"database ({seconds:.0f} s, counters recounted, VACUUM ANALYZE)"
            )
            if server.process is None:
                server.start(city.token)
                log(f"server up at {server.base}: {', '.join(f'{k} ×{len(v)}' for k, v in server.tree().items())}")
                meter = CpuMeter(launcher_pid=server.process.pid, database=database)
                settled = quiet(meter)
                log(f"server idle after {settled:.0f} s (Celery and the sandbox started up outside the rounds)")
            for fill in args.fills:
                scenario = Scenario(population, fill, count)
                scenarios.append(scenario)
                run_scenario(scenario, args=args, city=city, server=server, meter=meter, monitor=monitor, log=log)
        server_tree = server.tree()
    finally:
        server.stop()
    problems = [p for s in scenarios for part in s.parts for p in part.problems]
    problems += check_counters(monitor, None)
    monitor.close()

    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=BASE_DIR, capture_output=True, text=True
        ).stdout.strip(),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_at_start": load_at_start,
        },
        "args": vars(args),
        "server_tree": server_tree,
        "loads": loads,
        "scenarios": [
            {
                "population": s.population,
                "fill": s.fill,
                "people_in_database": s.people_in_database,
                "parts": [p.summary() for p in s.parts],
                "profile": s.profile,
            }
            for s in scenarios
        ],
        "consistent": not problems,
        "problems": problems[:50],
        "seconds": round(time.perf_counter() - started),
    }
    with open(RESULTS_DIR / "checkin.jsonl", "a") as out:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    print_summary(result, scenarios, args.batch_size, args.rate)
    print(f"({result['seconds']} s; appended to bench/results/checkin.jsonl)")
    if problems or any(p.errors for s in scenarios for p in s.parts):
        print(f"server log kept in {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
