#!/usr/bin/env python
"""Check-in throughput and latency against the server as `make run` starts it, on PostgreSQL.

    .venv/bin/python bench/checkin.py [--database-url postgres://postgres@127.0.0.1:5432/shelter_bench]
        [--duration 20] [--clients 32] [--rate 200] [--daphne-processes 1] [--conn-max-age 0]

One run takes about 100 seconds:

1. Recreates a dedicated database (its name must contain "bench"), migrates it with manage.py and
   seeds it through the ORM: 50 open shelters with a capacity no run can fill (the automatic 満員
   path is left out: it runs once per shelter, not per check-in), --preload people already inside
   each, fresh evacuees for every check-in (one in ten with a support need, so the live figures
   sent after each check-in have something to count), and an HQ user with a DRF token.
2. Starts `python -m config.launcher` (daphne, Celery worker and beat) with DEBUG=0 on a free port
   and, with --daphne-processes N, N-1 more daphnes on their own ports; clients are spread over them.
3. Runs 100 check-ins in-process (Django's test client, no HTTP server): SQL queries, SQL time,
   CPU, and the CPU of the cheapest request the endpoint answers (a 400), for comparison.
4. Phase A, throughput: --clients closed-loop desks, each POSTing one new person at a time to its
   own shelter with a unique Idempotency-Key over keep-alive connections; 3 s of warm-up first.
   Only 201s count, errors are listed apart.
5. Phase B, latency at a fixed rate: open-loop arrivals at --rate per second, scheduled by the
   clock; latency runs from the scheduled time, so a slow server cannot hide its queue.
6. Reference: the raw rate of an equivalent write through psycopg, one transaction per row
   (INSERT into shelters_stay + the shelter's occupancy UPDATE, then COMMIT), on --clients
   connections (one shelter each, like the desks), then on one; then deletes those rows.
7. Checks that every shelter's counters equal its open stays and that there is one stay per 201.

For each phase it prints the CPU that the HTTP server, PostgreSQL (the whole server: other
databases on it count too, their commits are printed), Redis and this client used, in percent of
one core and in ms per check-in, and what those costs allow at most on this machine.

What-ifs for the investigation, not what `make run` does: --conn-max-age, --db-pool (Django's
psycopg pool; needs psycopg-pool) and --wsgi-workers (gunicorn for HTTP; needs gunicorn).
--profile samples the HTTP server with py-spy during phase A. Results are appended as JSON lines
to bench/results/checkin.jsonl (gitignored), with py-spy's raw stacks next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
from benchdb import recreate_database

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
BIN_DIR = Path(sys.executable).parent
SHELTERS = 50
HTTP_PEOPLE = 40_000  # enough for 500/s through both phases
REFERENCE_PEOPLE = 25_000
WARMUP_SECONDS = 3.0
OPEN_LOOP_CONNECTIONS = 256
REQUEST_TIMEOUT = 30.0
REFERENCE_SECONDS = 5.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- Small helpers ------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    # Nearest rank: the smallest value with at least q of the values at or below it.
    index = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- CPU accounting: who burns the two cores ------------------------------------------------------


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, own ticks, ticks of reaped children) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def _machine_ticks() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _tree_ticks(root: int, parents: dict[int, int], own: dict[int, tuple[int, int]]) -> int:
    """A process tree's CPU: every live member's own time plus what the root reaped from children
    that exited (PostgreSQL backends that lived for one connection end up there)."""
    if root not in own:
        return 0
    total = own[root][0] + own[root][1]
    stack = [root]
    while stack:
        pid = stack.pop()
        for child, parent in parents.items():
            if parent == pid:
                total += own[child][0]
                stack.append(child)
    return total


def find_pids(predicate) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if predicate(comm, cmdline):
            pids.append(int(entry.name))
    return pids


@dataclass
class CpuGroups:
    """Roots of the process trees to account for, by name."""

    roots: dict[str, list[int]]

    def snapshot(self, *, settle: float = 0.0) -> dict:
        """CPU ticks so far. `settle` waits first for processes that just ended (PostgreSQL backends
        of closed connections) to be reaped, so their time is in their parent's count, not lost."""
        at = time.perf_counter()
        time.sleep(settle)
        parents: dict[int, int] = {}
        own: dict[int, tuple[int, int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                stat = _stat(int(entry.name))
                if stat:
                    parents[int(entry.name)] = stat[0]
                    own[int(entry.name)] = (stat[1], stat[2])
        busy, total = _machine_ticks()
        groups = {name: sum(_tree_ticks(pid, parents, own) for pid in pids) for name, pids in self.roots.items()}
        # The bench process itself, without the servers it started.
        groups["client"] = own[os.getpid()][0]
        return {"at": at, "machine_busy": busy, "machine_total": total, "groups": groups}

    @staticmethod
    def usage(before: dict, after: dict, *, items: int) -> dict:
        """CPU per group as percent of one core (200 = both cores of this machine) and per item."""
        wall = after["at"] - before["at"]
        seconds = {name: (after["groups"][name] - before["groups"][name]) / CLOCK_TICKS for name in before["groups"]}
        cores = os.cpu_count() or 1
        share = (after["machine_busy"] - before["machine_busy"]) / max(
            after["machine_total"] - before["machine_total"], 1
        )
        seconds["machine"] = share * cores * wall
        # Whatever else runs on this shared machine: other people's tests, Celery, the kernel.
        seconds["rest"] = max(0.0, seconds["machine"] - sum(v for k, v in seconds.items() if k != "machine"))
        return {
            "percent": {name: round(100 * value / wall) for name, value in seconds.items()},
            "ms_per_item": {name: round(1000 * value / max(items, 1), 2) for name, value in seconds.items()},
        }


# --- Database: recreate, migrate, seed ----------------------------------------------------------


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"], cwd=BASE_DIR, env=env, check=True
    )


@dataclass
class Seed:
    shelter_ids: list[int]
    http_people: list[int]
    reference_people: list[int]
    user_id: int
    token: str


def seed(*, preload: int) -> Seed:
    """Bulk inserts through the ORM, so fields with Python-side defaults stay right as models change.

    `preload` people per shelter are already inside when the run starts, as on the worst day: the
    live figures sent after each check-in count a shelter's residents, so their cost grows with it.
    Those stays are bulk-inserted (the services would take minutes) and the counters set to match.
    """
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from shelters.models import Evacuee, Role, Shelter, ShelterStatus, Stay, SupportCategory, SupportNeed, User

    now = timezone.now()
    shelters = Shelter.objects.bulk_create(
        Shelter(
            code=f"BENCH{n:03d}",
            name=f"ベンチ避難所{n}",
            name_en=f"Bench shelter {n}",
            capacity=1_000_000,
            status=ShelterStatus.OPEN,
            opened_at=now,
            latitude="37.494700",
            longitude="139.929900",
        )
        for n in range(SHELTERS)
    )
    Evacuee.objects.bulk_create(
        (
            Evacuee(
                walk_in_id=f"WBENCH{n:07d}",
                name=f"会津 太郎{n}",
                name_kana=f"アイヅ タロウ{n}",
                phone=f"0242-{n // 10000:02d}-{n % 10000:04d}",
            )
            for n in range(HTTP_PEOPLE + REFERENCE_PEOPLE + preload * SHELTERS)
        ),
        batch_size=5000,
    )
    people = list(Evacuee.objects.order_by("id").values_list("id", flat=True))
    categories = list(SupportCategory.objects.all())
    if categories:
        SupportNeed.objects.bulk_create(
            (
                SupportNeed(evacuee_id=person, category=categories[i % len(categories)])
                for i, person in enumerate(people[::10])
            ),
            batch_size=5000,
        )
    residents = people[HTTP_PEOPLE + REFERENCE_PEOPLE :]
    Stay.objects.bulk_create(
        (
            Stay(evacuee_id=person, shelter=shelter, checked_in_at=now)
            for index, shelter in enumerate(shelters)
            for person in residents[index * preload : (index + 1) * preload]
        ),
        batch_size=5000,
    )
    Shelter.objects.update(occupancy=preload)
    user = User.objects.create_user(username="bench-hq", password=None, role=Role.HQ)
    token = Token.objects.create(user=user)
    with connection.cursor() as cursor:
        # Planner statistics, as a database that has been running would have them.
        cursor.execute("ANALYZE")
    return Seed(
        shelter_ids=[s.pk for s in shelters],
        http_people=people[:HTTP_PEOPLE],
        reference_people=people[HTTP_PEOPLE : HTTP_PEOPLE + REFERENCE_PEOPLE],
        user_id=user.pk,
        token=token.key,
    )


# --- One check-in in-process: queries and where the time goes ----------------------------------


@dataclass
class Probe:
    queries: int
    statements: list[str]
    total_ms: float
    sql_ms: float
    cpu_ms: float  # this process's CPU per check-in: Django, DRF, the app, psycopg, events
    floor_cpu_ms: float  # the same POST with an empty body: token auth, validation, a 400
    connect_ms: float


PROBE_SAMPLES = 100


def probe_in_process(*, token: str, shelter_id: int, people, samples: int = PROBE_SAMPLES) -> Probe:
    """The same request through Django's test client: the whole Django + DRF stack, no HTTP server."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    totals, sql, counts = [], [], []
    captured: list[dict] = []
    cpu_started = time.process_time()
    for _ in range(samples):
        body = json.dumps({"shelter": shelter_id, "evacuees": [next(people)]})
        with CaptureQueriesContext(connection) as context:
            started = time.perf_counter()
            response = client.post(
                "/api/check-ins/", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
            )
            totals.append(time.perf_counter() - started)
        if response.status_code != 201:
            sys.exit(f"In-process check-in failed: {response.status_code} {response.content[:300]!r}")
        captured = context.captured_queries
        counts.append(len(captured))
        sql.append(sum(float(q["time"]) for q in captured))
    cpu_ms = 1000 * (time.process_time() - cpu_started) / samples
    cpu_started = time.process_time()
    for _ in range(samples):
        client.post("/api/check-ins/", data="{}", content_type="application/json")
    floor_cpu_ms = 1000 * (time.process_time() - cpu_started) / samples
    connects = []
    for _ in range(20):
        connection.close()
        started = time.perf_counter()
        connection.ensure_connection()
        connects.append(time.perf_counter() - started)
    return Probe(
        queries=Counter(counts).most_common(1)[0][0],
        statements=[q["sql"] for q in captured],
        total_ms=1000 * percentile(totals, 0.5),
        sql_ms=1000 * percentile(sql, 0.5),
        cpu_ms=cpu_ms,
        floor_cpu_ms=floor_cpu_ms,
        connect_ms=1000 * percentile(connects, 0.5),
    )


# --- The server, as `make run` starts it --------------------------------------------------------


class Server:
    """`python -m config.launcher` as `make run` starts it, plus what the options add.

    --daphne-processes N: N-1 more daphnes like the launcher's, on their own ports; clients are
    spread over all N. --wsgi-workers N (a what-if): gunicorn with N WSGI workers takes the HTTP
    load instead, while the launcher's daphne stays up for WebSockets.
    """

    def __init__(self, *, env: dict[str, str], daphne_processes: int, wsgi_workers: int, log_dir: Path):
        self.env = env
        self.daphne_processes = daphne_processes
        self.wsgi_workers = wsgi_workers
        self.log_dir = log_dir
        self.launcher: subprocess.Popen | None = None
        self.extra: list[subprocess.Popen] = []
        self.ports: list[int] = []

    def _spawn(self, command: list[str], log_name: str) -> subprocess.Popen:
        return subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.env,
            stdout=open(self.log_dir / log_name, "wb"),
            stderr=subprocess.STDOUT,
            # Its own session, so a Ctrl-C on the bench reaches the servers only through stop().
            start_new_session=True,
        )

    def start(self, token: str) -> None:
        self.launcher = self._spawn([sys.executable, "-m", "config.launcher"], "launcher.log")
        self.ports = [int(self.env["PORT"])]
        for index in range(1, self.daphne_processes):
            port = free_port()
            self.ports.append(port)
            command = [str(BIN_DIR / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
            self.extra.append(self._spawn(command, f"daphne-{index}.log"))
        if self.wsgi_workers:
            port = free_port()
            self.ports = [port]
            command = [str(BIN_DIR / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            command += ["--workers", str(self.wsgi_workers), "--worker-class", "gthread", "--threads", "2"]
            self.extra.append(self._spawn(command, "gunicorn.log"))
        deadline = time.monotonic() + 90
        for base in self.bases:
            while not self._answers(base, token):
                if self.launcher.poll() is not None or any(p.poll() is not None for p in self.extra):
                    self.stop()
                    sys.exit(f"A server process exited while starting; see the logs in {self.log_dir}")
                if time.monotonic() > deadline:
                    self.stop()
                    sys.exit(f"{base} did not answer within 90 s; see the logs in {self.log_dir}")
                time.sleep(0.25)

    @staticmethod
    def _answers(base: str, token: str) -> bool:
        try:
            answer = httpx.get(f"{base}/api/shelters/?limit=1", headers={"Authorization": f"Token {token}"})
        except httpx.TransportError:
            return False
        if answer.status_code != 200:
            sys.exit(f"{base} answered {answer.status_code}: {answer.text[:300]}")
        return True

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    @property
    def processes(self) -> int:
        return self.wsgi_workers or self.daphne_processes

    def http_pids(self) -> list[int]:
        """The processes that serve the benchmark's HTTP requests (roots of their process trees)."""
        if self.wsgi_workers:
            return [self.extra[-1].pid]
        launched = find_pids(
            lambda comm, cmdline: (
                "daphne" in cmdline and "config.asgi" in cmdline and f"-p {self.env['PORT']} " in f"{cmdline} "
            )
        )
        return launched + [p.pid for p in self.extra]

    def stop(self) -> None:
        for process in self.extra:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        if self.launcher and self.launcher.poll() is None:
            # SIGINT is Ctrl-C: the launcher then stops daphne and Celery itself.
            self.launcher.send_signal(signal.SIGINT)
        for process in [*self.extra, *([self.launcher] if self.launcher else [])]:
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                process.kill()


# --- Load ---------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    ok: int = 0
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    created: int = 0  # every 201, warm-up included, for the final check
    ran_out_of_people: bool = False
    cpu: dict = field(default_factory=dict)
    unanswered: int = 0  # open loop: still waiting when the phase's time ran out
    pg: dict[str, int] = field(default_factory=dict)
    redis_commands: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def record(self, status: int | None, text: str, latency: float, counted: bool) -> None:
        if status == 201:
            self.created += 1
            if counted:
                self.ok += 1
                self.latencies.append(latency)
        else:
            key = str(status) if status is not None else text.split(":")[0]
            self.errors[key] += 1
            if len(self.error_samples) < 3:
                self.error_samples.append(f"{key}: {' '.join(text.split())[:200]}")

    def summary(self) -> dict:
        return {
            "rate": round(self.rate, 1),
            "ok": self.ok,
            "errors": dict(self.errors),
            "p50_ms": round(1000 * percentile(self.latencies, 0.5), 1),
            "p99_ms": round(1000 * percentile(self.latencies, 0.99), 1),
            "seconds": round(self.seconds, 2),
            "unanswered": self.unanswered,
            "cpu": self.cpu,
            "pg_sessions_per_check_in": round(self.pg.get("sessions", 0) / max(self.created, 1), 2),
            "other_databases_commits": self.pg.get("other_databases_commits", 0),
            "redis_commands_per_check_in": {
                k: round(v / max(self.created, 1), 2) for k, v in self.redis_commands.items() if v
            },
            "ran_out_of_people": self.ran_out_of_people,
        }


class RawClient:
    """Keep-alive HTTP/1.1 connections to one server, at most `size` open; further requests wait their turn.

    The default client: it costs a fraction of httpx's CPU per request, which matters when it shares
    two cores with the server, and its queue stays cheap with thousands of requests waiting (httpcore's
    pool walks every queued request on each event, so an overloaded open-loop run stalls the client).
    """

    def __init__(self, base: str, token: str, size: int):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.head = (
            f"POST /api/check-ins/ HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Token {token}\r\n"
            "Content-Type: application/json\r\n"
        )
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(size)

    async def post(self, body: bytes, key: str) -> tuple[int, bytes]:
        async with self.slots:
            reader, writer = self.idle.pop() if self.idle else await asyncio.open_connection(self.host, self.port)
            try:
                writer.write(
                    f"{self.head}Idempotency-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
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


class HttpxClient:
    """The same requests through httpx (--client httpx), to check that the client does not change the figures."""

    def __init__(self, base: str, token: str, size: int):
        self.client = httpx.AsyncClient(
            base_url=base,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            timeout=httpx.Timeout(REQUEST_TIMEOUT),
        )

    async def post(self, body: bytes, key: str) -> tuple[int, bytes]:
        response = await self.client.post("/api/check-ins/", content=body, headers={"Idempotency-Key": key})
        return response.status_code, response.content

    async def close(self) -> None:
        await self.client.aclose()


def http_clients(kind: str, bases: list[str], token: str, connections: int) -> list[RawClient | HttpxClient]:
    per_server = max(1, -(-connections // len(bases)))
    client_class = HttpxClient if kind == "httpx" else RawClient
    return [client_class(base, token, per_server) for base in bases]


async def check_in(client: RawClient | HttpxClient, shelter_id: int, person: int) -> tuple[int | None, str]:
    body = json.dumps({"shelter": shelter_id, "evacuees": [person]}).encode()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            status, content = await client.post(body, uuid.uuid4().hex)
    except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError, httpx.HTTPError) as error:
        return None, f"{type(error).__name__}: {error}"
    return status, "" if status == 201 else content.decode(errors="replace")


async def closed_loop(
    *, phase: Phase, kind: str, bases, token, shelter_ids, people, clients: int, duration: float
) -> None:
    """Each desk sends its next check-in as soon as the previous one is answered."""
    http = http_clients(kind, bases, token, clients)
    started = time.perf_counter()
    measure_from = started + WARMUP_SECONDS
    stop_at = measure_from + duration

    async def desk(index: int) -> None:
        client = http[index % len(http)]
        shelter_id = shelter_ids[index % len(shelter_ids)]
        while time.perf_counter() < stop_at:
            person = next(people, None)
            if person is None:
                phase.ran_out_of_people = True
                return
            sent = time.perf_counter()
            status, text = await check_in(client, shelter_id, person)
            done = time.perf_counter()
            # Throughput is answers per second inside the window, whenever their request was sent.
            phase.record(status, text, done - sent, counted=measure_from <= done <= stop_at)

    await asyncio.gather(*(desk(i) for i in range(clients)))
    phase.seconds = duration
    for client in http:
        await client.close()


async def open_loop(
    *, phase: Phase, kind: str, bases, token, shelter_ids, people, rate: float, duration: float
) -> None:
    """Arrivals on a fixed schedule, whatever the server does: a slow answer delays no other send.

    At most OPEN_LOOP_CONNECTIONS requests are on the wire at once (a city has a bounded number of
    desks); later arrivals wait in the client, and that wait counts in their latency.
    """
    http = http_clients(kind, bases, token, OPEN_LOOP_CONNECTIONS)
    total = int(rate * duration)
    started = time.perf_counter() + 0.05
    finished: list[float] = []

    async def one(index: int, scheduled: float) -> None:
        person = next(people, None)
        if person is None:
            phase.ran_out_of_people = True
            return
        status, text = await check_in(http[index % len(http)], shelter_ids[index % len(shelter_ids)], person)
        done = time.perf_counter()
        finished.append(done)
        phase.record(status, text, done - scheduled, counted=True)

    tasks = []
    for index in range(total):
        scheduled = started + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, scheduled)))
    # An overloaded server could keep the run going for minutes: give it a grace period, then stop.
    _, pending = await asyncio.wait(tasks, timeout=max(10.0, duration / 2))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    phase.unanswered = len(pending)
    # Achieved rate over the time the offered load took to be answered: equal to --rate when the
    # server keeps up, lower when answers pile up behind it.
    phase.seconds = max(duration, (max(finished) - started) if finished else duration)
    for client in http:
        await client.close()


# --- Reference: the raw write through psycopg ---------------------------------------------------

INSERT_STAY = """
    INSERT INTO shelters_stay (evacuee_id, shelter_id, check_in_id, mode, checked_in_at, checked_in_by_id,
                               checked_out_at, checked_out_by_id, destination, destination_shelter_id, source)
    VALUES (%s, %s, NULL, 'inside', %s, %s, NULL, NULL, '', NULL, 'real')
"""
UPDATE_SHELTER = """
    UPDATE shelters_shelter SET occupancy = occupancy + 1, version = version + 1, updated_at = %s WHERE id = %s
"""


@dataclass
class Reference:
    connections: int
    rows: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {
            "connections": self.connections,
            "rate": round(self.rate, 1),
            "rows": self.rows,
            "p50_ms": round(1000 * percentile(self.latencies, 0.5), 2),
            "p99_ms": round(1000 * percentile(self.latencies, 0.99), 2),
        }


def reference_inserts(*, url: str, shelter_ids, people, user_id: int, connections: int, seconds: float) -> Reference:
    lock = threading.Lock()
    ready = threading.Barrier(connections + 1)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    rows = [0] * connections

    def writer(index: int) -> None:
        shelter_id = shelter_ids[index % len(shelter_ids)]
        with psycopg.connect(url) as conn:
            ready.wait()
            stop_at = time.perf_counter() + seconds
            while time.perf_counter() < stop_at:
                with lock:
                    person = next(people, None)
                if person is None:
                    return
                started = time.perf_counter()
                now = datetime.now(UTC)
                conn.execute(INSERT_STAY, (person, shelter_id, now, user_id))
                conn.execute(UPDATE_SHELTER, (now, shelter_id))
                conn.commit()
                latencies[index].append(time.perf_counter() - started)
                rows[index] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return Reference(connections, sum(rows), time.perf_counter() - started, [x for xs in latencies for x in xs])


def remove_reference_rows(url: str, people: list[int]) -> None:
    """Delete the reference rows (their people are the reference's own) and take their counts back."""
    with psycopg.connect(url) as conn:
        conn.execute(
            """
            WITH removed AS (
                DELETE FROM shelters_stay WHERE evacuee_id = ANY(%s) RETURNING shelter_id
            ), per_shelter AS (SELECT shelter_id, count(*) AS n FROM removed GROUP BY shelter_id)
            UPDATE shelters_shelter s SET occupancy = s.occupancy - p.n FROM per_shelter p WHERE s.id = p.shelter_id
            """,
            (people,),
        )


# --- Checks and server-side counters ------------------------------------------------------------


def verify(url: str, expected_stays: int, *, unanswered: int) -> tuple[bool, list[str]]:
    """Counters equal open stays; one stay with a check-in per 201 (an abandoned request may have committed)."""
    problems = []
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            SELECT s.id, s.occupancy, s.outside_count,
                   count(st.id) FILTER (WHERE st.mode = 'inside'), count(st.id) FILTER (WHERE st.mode <> 'inside')
            FROM shelters_shelter s
            LEFT JOIN shelters_stay st ON st.shelter_id = s.id AND st.checked_out_at IS NULL
            GROUP BY s.id ORDER BY s.id
            """
        ).fetchall()
        for shelter_id, occupancy, outside, inside_stays, outside_stays in rows:
            if (occupancy, outside) != (inside_stays, outside_stays):
                problems.append(
                    f"shelter {shelter_id}: counters {occupancy}/{outside}, open stays {inside_stays}/{outside_stays}"
                )
        stays = conn.execute("SELECT count(*) FROM shelters_stay WHERE check_in_id IS NOT NULL").fetchone()[0]
        if not expected_stays <= stays <= expected_stays + unanswered:
            problems.append(
                f"{stays} stays in the database, {expected_stays} check-ins answered 201, {unanswered} abandoned"
            )
    return not problems, problems


def pg_counters(monitor: psycopg.Connection) -> dict[str, int]:
    """Sessions opened on the bench database, and transactions committed in every other database: the
    PostgreSQL server is shared, and other people's work shows up in its CPU."""
    ours, others = monitor.execute(
        """
        SELECT sum(sessions) FILTER (WHERE datname = current_database()),
               coalesce(sum(xact_commit) FILTER (WHERE datname <> current_database()), 0)
        FROM pg_stat_database WHERE datname IS NOT NULL
        """
    ).fetchone()
    return {"sessions": int(ours), "other_databases_commits": int(others)}


def redis_command_counts(url: str) -> dict[str, int]:
    """Calls per command, server-wide: anyone else using this Redis is counted too."""
    import redis

    try:
        stats = redis.Redis.from_url(url).info("commandstats")
    except redis.RedisError:
        return {}
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


def counter_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0) > 0}


# --- Profile of the server under load (optional) -------------------------------------------------

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
    ("stay_check_in service", "stay_check_in", "shelters/services/stays.py"),
    ("after-commit events", "BaseDatabaseWrapper.run_and_clear_commit_hooks", "django/db/backends/base/base.py"),
    ("DB connect", "BaseDatabaseWrapper.connect", "django/db/backends/base/base.py"),
    ("SQL execute (driver)", "Cursor.execute", "psycopg/"),
    ("token authentication", "TokenAuthentication.authenticate", "rest_framework/authentication.py"),
    ("response serializer", "ListSerializer.data", "rest_framework/serializers.py"),
    ("new thread per request", "Thread.start", "threading.py"),
    ("daphne access log", "", "daphne/access.py"),
]


def start_profiles(pids: list[int], seconds: float, out_dir: Path) -> list[tuple[subprocess.Popen, Path]]:
    spy = BIN_DIR / "py-spy"
    if not spy.exists():
        print("py-spy is not installed in the venv (.venv/bin/pip install py-spy): no profile.")
        return []
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


# --- Main ---------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/shelter_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of each phase")
    parser.add_argument("--clients", type=int, default=32, help="concurrent desks in phase A")
    parser.add_argument("--rate", type=float, default=200.0, help="check-ins per second offered in phase B")
    parser.add_argument("--daphne-processes", type=int, default=1)
    parser.add_argument("--preload", type=int, default=200, help="people already inside each shelter at the start")
    parser.add_argument("--conn-max-age", type=int, default=0, help="CONN_MAX_AGE for the server (settings read it)")
    parser.add_argument(
        "--db-pool",
        action="store_true",
        help="what-if: Django's psycopg connection pool (DATABASE_URL ?pool=true; needs psycopg-pool installed)",
    )
    parser.add_argument(
        "--wsgi-workers",
        type=int,
        default=0,
        help="what-if: serve HTTP with gunicorn, N WSGI workers of 2 threads (needs gunicorn installed)",
    )
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw", help="HTTP client (see RawClient)")
    parser.add_argument("--profile", action="store_true", help="py-spy the HTTP server processes during phase A")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one check-in")
    args = parser.parse_args()
    if args.db_pool and args.conn_max_age:
        parser.error("Django's pool does not work with persistent connections: use --conn-max-age 0 with --db-pool")
    return args


def server_environment(args: argparse.Namespace, work_dir: Path) -> dict[str, str]:
    database_url = args.database_url + ("?pool=true" if args.db_pool else "")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "CONN_MAX_AGE": str(args.conn_max_age),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        # A private var/: the bench's Celery beat schedule must not touch a running `make run`.
        "VAR_DIR": str(work_dir / "var"),
        "PYTHONUNBUFFERED": "1",
        # One HQ token sends every check-in: the bench measures the server, not the API throttle.
        "API_THROTTLE_USER": "",
    }


def measure_phase(
    phase: Phase, load, *, groups: CpuGroups, monitor: psycopg.Connection, args: argparse.Namespace
) -> None:
    """Run one phase's load and note what it cost: CPU, new PostgreSQL sessions, Redis commands."""
    before, pg, commands = groups.snapshot(), pg_counters(monitor), redis_command_counts(args.redis_url)
    asyncio.run(load)
    phase.cpu = CpuGroups.usage(before, groups.snapshot(settle=0.5), items=phase.created)
    phase.pg = counter_delta(pg, pg_counters(monitor))
    phase.redis_commands = counter_delta(commands, redis_command_counts(args.redis_url))


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {message}", flush=True)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="shelter-bench-"))
    env = server_environment(args, work_dir)
    # This process seeds and probes through Django with the server's settings.
    for name in (
        "DJANGO_SETTINGS_MODULE",
        "DATABASE_URL",
        "REDIS_URL",
        "CONN_MAX_AGE",
        "DEBUG",
        "ALLOWED_HOSTS",
        "API_THROTTLE_USER",
    ):
        os.environ[name] = env[name]
    os.environ["VAR_DIR"] = env["VAR_DIR"]
    sys.path.insert(0, str(BASE_DIR))
    # The servers run in their own sessions: a SIGTERM (timeout, kill) must still stop them.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    name = recreate_database(args.database_url)
    log(f"database {name} recreated; migrating")
    migrate(env)
    import django

    django.setup()
    # Django's logging settings apply here too: httpx would log every request at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the probe's deliberate 400s
    seeded = seed(preload=args.preload)
    log(f"seeded {SHELTERS} shelters, {args.preload} people already inside each")

    people = iter(seeded.http_people)
    probe = probe_in_process(token=seeded.token, shelter_id=seeded.shelter_ids[-1], people=people)
    created = PROBE_SAMPLES
    from django.db import connections

    connections.close_all()

    server = Server(env=env, daphne_processes=args.daphne_processes, wsgi_workers=args.wsgi_workers, log_dir=work_dir)
    # Opened before the server, which may take every connection PostgreSQL allows once overloaded.
    monitor = psycopg.connect(args.database_url, autocommit=True)
    server.start(seeded.token)
    postgres = find_pids(lambda comm, cmdline: comm == "postgres" and "-D " in cmdline)[:1]
    try:
        http_pids = server.http_pids()
        groups = CpuGroups(
            roots={
                "http": http_pids,
                "postgres": postgres,
                "redis": find_pids(lambda comm, cmdline: comm == "redis-server"),
            }
        )
        log(f"server up on {', '.join(server.bases)} (HTTP pids {http_pids}); phase A: {args.clients} desks")
        phase_a = Phase("A")
        profiles = start_profiles(http_pids, WARMUP_SECONDS + args.duration, RESULTS_DIR) if args.profile else []
        common = {"kind": args.client, "bases": server.bases, "token": seeded.token, "shelter_ids": seeded.shelter_ids}
        measure_phase(
            phase_a,
            closed_loop(phase=phase_a, people=people, clients=args.clients, duration=args.duration, **common),
            groups=groups,
            monitor=monitor,
            args=args,
        )
        for process, _ in profiles:
            process.wait(timeout=60)
        profile = summarize_profile([output for _, output in profiles])
        created += phase_a.created

        time.sleep(1)
        log(f"phase B: {args.rate:.0f}/s open loop")
        phase_b = Phase("B")
        measure_phase(
            phase_b,
            open_loop(phase=phase_b, people=people, rate=args.rate, duration=args.duration, **common),
            groups=groups,
            monitor=monitor,
            args=args,
        )
        created += phase_b.created
    finally:
        server.stop()
        monitor.close()

    log("reference: raw INSERT + UPDATE + COMMIT through psycopg")
    reference_people = iter(seeded.reference_people)
    references = []
    database_only = CpuGroups(roots={"postgres": postgres})
    for connection_count in (args.clients, 1):
        before = database_only.snapshot()
        reference = reference_inserts(
            url=args.database_url,
            shelter_ids=seeded.shelter_ids,
            people=reference_people,
            user_id=seeded.user_id,
            connections=connection_count,
            seconds=REFERENCE_SECONDS,
        )
        after = database_only.snapshot(settle=0.5)
        references.append((reference, CpuGroups.usage(before, after, items=reference.rows)))
    remove_reference_rows(args.database_url, seeded.reference_people)
    consistent, problems = verify(args.database_url, created, unanswered=phase_b.unanswered)

    raw = references[0][0]
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=BASE_DIR, capture_output=True, text=True
        ).stdout.strip(),
        "machine": {
            "cores": os.cpu_count(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
            "load_at_start": load_at_start,
        },
        "args": vars(args),
        "server_processes": server.processes,
        "probe": {k: v for k, v in asdict(probe).items() if k != "statements"},
        "phase_a": phase_a.summary(),
        "phase_b": phase_b.summary(),
        "reference": [dict(r.summary(), cpu=cpu) for r, cpu in references],
        "ratio_a_to_raw": round(phase_a.rate / raw.rate, 3) if raw.rate else None,
        "profile": profile,
        "consistent": consistent,
        "seconds": round(time.perf_counter() - started),
    }
    with open(RESULTS_DIR / "checkin.jsonl", "a") as out:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    report(result, phase_a, phase_b, probe, problems, args.show_queries)
    if not consistent or phase_a.errors or phase_b.errors:
        print(f"server logs kept in {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    # Errors and missed targets are results; only data the server left wrong fails the run.
    return 0 if consistent else 1


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def describe_server(args: dict) -> str:
    if args["wsgi_workers"]:
        http = f"gunicorn, {args['wsgi_workers']} WSGI workers x 2 threads (launcher's daphne idle)"
    else:
        http = f"{args['daphne_processes']} daphne process(es)"
    pool = ", Django psycopg pool" if args["db_pool"] else ""
    return f"launcher + {http}, CONN_MAX_AGE={args['conn_max_age']}{pool}, DEBUG=0, client {args['client']}"


def cpu_line(cpu: dict, unit: str) -> str:
    parts = []
    for name, percent in cpu["percent"].items():
        per_item = "" if name in ("machine", "rest") else f" ({cpu['ms_per_item'][name]:.1f} ms/{unit})"
        parts.append(f"{name} {percent}%{per_item}")
    return ", ".join(parts)


def ceilings(cpu: dict, processes: int) -> str:
    """What the measured CPU cost allows if the server had the machine to itself and the client cost nothing."""
    per_item = cpu["ms_per_item"]
    server_ms = per_item["http"] + per_item["postgres"] + per_item["redis"]
    one_core_each = processes * 1000 / per_item["http"] if per_item["http"] else float("inf")
    cores = os.cpu_count() or 1
    return (
        f"CPU ceilings: {processes} HTTP process(es) at one core each <= {one_core_each:.0f}/s; "
        f"HTTP+postgres+redis on {cores} cores <= {cores * 1000 / server_ms:.0f}/s"
    )


def report(result: dict, phase_a: Phase, phase_b: Phase, probe: Probe, problems: list[str], show_queries: bool) -> None:
    a, b = result["phase_a"], result["phase_b"]
    args = result["args"]
    machine = result["machine"]

    def errors(summary: dict) -> str:
        text = ", ".join(f"{n}x {kind}" for kind, n in summary["errors"].items()) or "-"
        if summary.get("unanswered"):
            text += f", {summary['unanswered']} unanswered"
        return text

    print()
    print(
        f"== check-in benchmark: {machine['cores']} cores ({machine['cpu']}), load {machine['load_at_start']:.1f} "
        f"at start, git {result['git']}"
    )
    print(f"server: {describe_server(args)}")
    print(
        f"in-process (test client, no HTTP server), one check-in: {probe.queries} SQL queries; "
        f"{probe.total_ms:.1f} ms, of which SQL {probe.sql_ms:.1f} ms; {probe.cpu_ms:.1f} ms CPU "
        f"(a 400 for an empty body: {probe.floor_cpu_ms:.1f} ms CPU); a new DB connection {probe.connect_ms:.1f} ms"
    )
    print(f"{'':36}{'per s':>9}{'p50 ms':>10}{'p99 ms':>10}  errors")
    for label, summary in (
        (f"A  {args['clients']} desks, closed loop", a),
        (f"B  {args['rate']:.0f}/s offered, open loop", b),
    ):
        print(f"{label:36}{summary['rate']:9.1f}{summary['p50_ms']:10.1f}{summary['p99_ms']:10.1f}  {errors(summary)}")
    for reference in result["reference"]:
        label = f"raw INSERT+UPDATE+COMMIT, {reference['connections']} conn."
        print(f"{label:36}{reference['rate']:9.1f}{reference['p50_ms']:10.2f}{reference['p99_ms']:10.2f}")
    print(f"ratio A / raw ({args['clients']} connections): {result['ratio_a_to_raw']}")
    print(f"CPU in A, % of one core: {cpu_line(a['cpu'], 'check-in')}")
    print(f"   {ceilings(a['cpu'], result['server_processes'])}")
    print(f"CPU in B, % of one core: {cpu_line(b['cpu'], 'check-in')}")
    print(f"CPU in raw ({args['clients']} conn.): {cpu_line(result['reference'][0]['cpu'], 'row')}")
    commands = sorted(a["redis_commands_per_check_in"].items(), key=lambda item: -item[1])[:4]
    print(
        f"per check-in in A: {a['pg_sessions_per_check_in']} new PostgreSQL sessions "
        f"(other databases on the server committed {a['other_databases_commits']} meanwhile); Redis (server-wide) "
        + ", ".join(f"{name} {n}" for name, n in commands)
    )
    a_met = a["rate"] >= 500
    b_met = b["p99_ms"] <= 100 and not b["errors"] and not b["unanswered"] and b["rate"] >= 0.95 * args["rate"]
    print(
        f"targets: >= 500/s sustained {'MET' if a_met else 'NOT MET'}; "
        f"p99 <= 100 ms at {args['rate']:.0f}/s {'MET' if b_met else 'NOT MET'}"
    )
    print(f"occupancy equals open stays, one stay per 201: {'OK' if result['consistent'] else 'MISMATCH'}")
    for problem in problems[:10]:
        print(f"   {problem}")
    for phase in (phase_a, phase_b):
        for sample in phase.error_samples:
            print(f"   {phase.name} error {sample}")
    if result["profile"]:
        profile = result["profile"]
        print(f"py-spy of the HTTP server in A ({profile['samples']} samples holding the GIL), self time by package:")
        print("   " + ", ".join(f"{k} {v}%" for k, v in profile["self_time_percent"].items()))
        print("   inclusive: " + ", ".join(f"{k} {v}%" for k, v in profile["inclusive_percent"].items()))
    if show_queries:
        print("SQL of one check-in:")
        for number, statement in enumerate(probe.statements, 1):
            print(f"  {number:2d}. {statement[:160]}")
    print(f"({result['seconds']} s; appended to bench/results/checkin.jsonl)")


if __name__ == "__main__":
    sys.exit(main())
