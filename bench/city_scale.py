#!/usr/bin/env python
"""The city at full scale: 3,050 shelters, 573,000 people inside, the HQ's views of it.

    flock /tmp/bench.flock .venv/bin/python bench/city_scale.py
        [--database-url postgres://postgres@127.0.0.1:5432/city_scale_bench] [--redis-url ...]
        [--shelters 3050] [--people 573000] [--left 60000] [--dashboards 1000] [--runs 7] [--keep]

1. A fresh database (its name must contain "bench"; dropped at the end unless --keep), migrated.
   Loaded as a benchmark, not through the write path (bulk SQL, bench/checkin.py's helpers):
   --shelters open shelters, --people evacuees staying inside (one in ten with a support need),
   arrived over the last 72 hours, and --left more who came and left again within 96 hours (the
   history's departures); the shelters' counters recounted from the stays; VACUUM ANALYZE.
2. In this process, DEBUG off, median and max of --runs runs, each beside a reference measured in
   the same run, with the ratio:
   - the HQ snapshot: the city stream's snapshot data (what a socket's shared build runs, and the
     page embeds), serialised to JSON; target at most 150 ms. Reference: `SELECT * FROM
     shelters_shelter` fetched whole through psycopg.
   - the 48-hour occupancy history (dashboard.selectors.occupancy_history, city-wide) alone.
   - the HQ page, GET /dashboard/ through Django's test client as HQ; target at most 500 ms.
     Reference: the same bare SELECT.
3. The server as `make run` starts it (`python -m config.launcher`, on a free port), HQ signed in
   through the login page; --dashboards sockets connect to /ws/city/ at once (bench/dashboard_fanout.py's
   clients, two processes, --concurrency handshakes in flight), each reading its snapshot; the
   wall time and the server's CPU (the launcher's process tree, from /proc). Twice: a cold start
   (the process has built nothing), then all of them again after one new event (a wall
   reconnecting after a blip). Target: 1,000 in at most 5 s. Reference: a bare `websockets` server
   in its own process, sending the same snapshot bytes to the same clients.
Results are appended to bench/results/city_scale.jsonl (gitignored) and printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from benchdb import drop_database, recreate_database, setup_django, vacuum_analyze

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
PASSWORD = "city-scale-bench"
TARGETS = {"snapshot_ms": 150.0, "page_ms": 500.0, "connect_s": 5.0}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Load -----------------------------------------------------------------------------------------


def load(*, shelters: int, people: int, left: int) -> dict:
    """The city, by bulk SQL; returns the HQ user's id and token."""
    from checkin import City, insert_select, make_people, make_shelters, recount
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from shelters.models import Role, Stay, User

    user = User.objects.create_user(username="bench-hq", password=PASSWORD, role=Role.HQ)
    shelter_ids = make_shelters(City(), shelters)
    inside = make_people(people, "IN")
    gone = make_people(left, "OUT")
    # Inside: arrived over the last 72 hours, spread over the shelters in turn.
    insert_select(
        Stay,
        {
            "evacuee": "p.person",
            "shelter": "p.shelter",
            "checked_in_at": "now() - random() * interval '72 hours'",
            "checked_in_by": str(int(user.pk)),
            "mode": "'inside'",
        },
        "unnest(%s::bigint[], %s::bigint[]) AS p(person, shelter)",
        [inside, [shelter_ids[i % len(shelter_ids)] for i in range(len(inside))]],
    )
    # Left again: arrived within 96 hours, gone home some time after.
    insert_select(
        Stay,
        {
            "evacuee": "p.person",
            "shelter": "p.shelter",
            "checked_in_at": "p.came",
            "checked_in_by": str(int(user.pk)),
            "checked_out_at": "p.came + p.share * (now() - p.came)",
            "destination": "'home'",
            "mode": "'inside'",
        },
        "(SELECT person, shelter, now() - random() * interval '96 hours' AS came, random() AS share "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS u(person, shelter)) AS p",
        [gone, [shelter_ids[i % len(shelter_ids)] for i in range(len(gone))]],
    )
    recount(shelter_ids)
    token = Token.objects.create(user=user).key
    connection.close()
    return {"user_id": user.pk, "token": token}


# --- In process: snapshot, history, page ----------------------------------------------------------


def timed(function, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(1000 * (time.perf_counter() - started))
    return times


def summary(times: list[float]) -> dict:
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def in_process(*, url: str, user_id: int, runs: int) -> dict:
    from django.db import connection
    from django.test import Client

    from dashboard import selectors
    from realtime import streams
    from realtime.snapshots import dumps
    from shelters.models import User

    hq = User.objects.get(pk=user_id)
    city = streams.stream_kind("city")
    bare = psycopg.connect(url, autocommit=True)

    def reference():
        bare.execute("SELECT * FROM shelters_shelter").fetchall()

    def snapshot():
        return dumps(city.shared_data(None))

    client = Client()
    client.force_login(hq)

    def page():
        response = client.get("/dashboard/")
        assert response.status_code == 200, response.status_code

    for warm in (reference, snapshot, page):  # connections, caches, templates
        warm()
    results = {
        "reference": summary(timed(reference, runs)),
        "snapshot": summary(timed(snapshot, runs)),
        "history": summary(timed(lambda: selectors.occupancy_history(hours=48), runs)),
        "page": summary(timed(page, runs)),
        "snapshot_bytes": len(snapshot().encode()),
    }
    bare.close()
    connection.close()
    return results


# --- Dashboards connecting ------------------------------------------------------------------------


async def _bare_main(conn, port: int, snapshot: bytes) -> None:
    from websockets.asyncio.server import serve

    text = snapshot.decode()

    async def handler(websocket):
        await websocket.send(text)
        await websocket.wait_closed()

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, max_size=None, backlog=2048):
        conn.send("listening")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)


def bare_process(conn, port: int, snapshot: bytes) -> None:
    asyncio.run(_bare_main(conn, port, snapshot))


def one_snapshot(*, base: str, cookie: str) -> bytes:
    """The snapshot frame as a browser gets it: the reference server sends these same bytes."""
    from websockets.sync.client import connect

    uri = base.replace("http://", "ws://") + "/ws/city/"
    with connect(uri, origin=base, additional_headers={"Cookie": cookie}, max_size=None, compression=None) as socket:
        message = socket.recv()
    return message.encode() if isinstance(message, str) else message


def start_profile(pid: int, output: Path) -> subprocess.Popen | None:
    """py-spy on `pid` (idle frames too: a connect that waits shows where), until stopped."""
    spy = shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy"
    if not Path(spy).exists():
        log("no py-spy: pip install --target /tmp/pyspy py-spy")
        return None
    env = {**os.environ, "PYTHONPATH": "/tmp/pyspy"}
    command = [spy, "record", "--idle", "-r", "200", "-f", "raw", "-o", str(output), "-p", str(pid)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def connect_round(
    clients, *, count: int, port: int, path: str, origin: str, headers: dict, meter, role: str, profile=None
) -> dict:
    spy = start_profile(*profile) if profile else None
    if spy is not None:
        time.sleep(1)
    before = meter()
    connected = asyncio.run(
        clients.connect(count=count, host="127.0.0.1", port=port, path=path, origin=origin, headers=headers)
    )
    after = meter()
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)
        log(f"   py-spy profile in {profile[1]}")
    asyncio.run(clients.close())
    return {
        "seconds": round(connected["seconds"], 2),
        "cpu_seconds": round(after - before, 2),
        "retries": connected["retries"],
        "snapshot_bytes": connected["snapshot_bytes"],
        "role": role,
    }


def dashboards(
    *, url: str, redis_url: str, token: str, count: int, concurrency: int, work_dir: Path, profile: bool
) -> dict:
    import checkin
    import dashboard_fanout
    from checkin import CpuMeter, Server, free_port

    from tests.system import Session

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",  # what `make run` serves (the launcher's default)
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "VAR_DIR": str(work_dir / "var"),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DEBUG", "DB_POOL", "CONN_MAX_AGE", "DB_STATEMENT_TIMEOUT_MS"):  # as `make run` would
        env.pop(name, None)
    server = Server(env, work_dir)
    dashboard_fanout.CONNECT_CONCURRENCY = concurrency
    clients = dashboard_fanout.Clients(2)
    bare = None
    results: dict = {}
    try:
        server.start(token)
        results["server_tree"] = {role: len(pids) for role, pids in server.tree().items()}
        log(f"server up at {server.base}: {results['server_tree']}")
        meter_of = CpuMeter(launcher_pid=server.process.pid, database=url.rsplit("/", 1)[1])

        def server_cpu() -> float:
            """CPU seconds of the server processes (daphne, the WSGI workers, the proxy: every
            `server*` role of bench/checkin.py's meter), reaped children included."""
            snapshot = meter_of.snapshot()
            ticks = sum(sum(t.values()) for role, t in snapshot.ticks.items() if role.startswith("server"))
            ticks += sum(n for role, n in snapshot.reaped.items() if role.startswith("server"))
            return ticks / checkin.CLOCK_TICKS

        hq = Session(server.base, "bench-hq", PASSWORD)
        cookie = hq.cookie_header
        port = int(server.base.rsplit(":", 1)[1])
        common = {
            "count": count,
            "port": port,
            "path": "/ws/city/",
            "origin": server.base,
            "headers": {"Cookie": cookie},
        }
        log(f"{count} dashboards connecting to a cold server")
        tree = server.tree()
        daphne = int(
            (tree.get("server:daphne") or [line for lines in tree.values() for line in lines if "daphne" in line])[
                0
            ].split()[0]
        )
        spied = (daphne, work_dir / "daphne-cold.raw") if profile else None
        results["cold"] = connect_round(clients, meter=server_cpu, role="daphne", profile=spied, **common)
        log(f"   {results['cold']}")
        # One new event on the city stream (a check-in elsewhere would do the same): the wall
        # reconnects at a new position, so the snapshot is built afresh once.
        publish_event(env)
        log(f"{count} dashboards reconnecting after a new event")
        results["again"] = connect_round(clients, meter=server_cpu, role="daphne", **common)
        log(f"   {results['again']}")
        snapshot = one_snapshot(base=server.base, cookie=cookie)
        hq.close()
    finally:
        server.stop()

    context = multiprocessing.get_context("spawn")
    bare_port = free_port()
    pipe, child = context.Pipe()
    bare = context.Process(target=bare_process, args=(child, bare_port, snapshot), daemon=True)
    bare.start()
    try:
        pipe.recv()

        def bare_cpu() -> float:
            fields = Path(f"/proc/{bare.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / checkin.CLOCK_TICKS

        log(f"{count} dashboards connecting to the bare websockets server (same snapshot bytes)")
        results["bare"] = connect_round(
            clients,
            count=count,
            port=bare_port,
            path="/",
            origin=f"http://127.0.0.1:{bare_port}",
            headers={},
            meter=bare_cpu,
            role="bare",
        )
        log(f"   {results['bare']}")
    finally:
        pipe.send("exit")
        bare.join(timeout=5)
        if bare.is_alive():
            bare.terminate()
        clients.stop()
    return results


def publish_event(env: dict) -> None:
    """One real event on the city stream: a replay's progress, sent by the service that sends it."""
    code = (
        "from django.db import transaction\n"
        "from shelters.events import replay_progressed\n"
        "with transaction.atomic():\n"
        "    replay_progressed()\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
        check=True,
        capture_output=True,
    )


# --- Report ---------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(result: dict) -> None:
    process = result["in_process"]
    reference = process["reference"]["median_ms"]
    print()
    print(
        f"City scale: {result['shelters']:,} shelters, {result['people']:,} people inside, {result['left']:,} who left"
    )
    print(f"  bare SELECT * FROM shelters_shelter (reference)  {reference:8.1f} ms")
    for name, label, target in (
        ("snapshot", "HQ snapshot (city stream, JSON)", TARGETS["snapshot_ms"]),
        ("history", "48-hour occupancy history", None),
        ("page", "HQ page GET /dashboard/", TARGETS["page_ms"]),
    ):
        figure = process[name]
        line = f"  {label:<46} {figure['median_ms']:8.1f} ms (max {figure['max_ms']:.1f}), {figure['median_ms'] / reference:5.1f}× the reference"
        if target:
            line += f"; target ≤ {target:.0f} ms: {verdict(figure['median_ms'] <= target)}"
        print(line)
    print(f"  snapshot: {process['snapshot_bytes']:,} bytes")
    sockets = result.get("dashboards")
    if sockets:
        bare = sockets["bare"]
        for name, label in (("cold", "cold server"), ("again", "again after one event")):
            figure = sockets[name]
            print(
                f"  {result['dashboards_count']:,} dashboards connecting, {label:<22} {figure['seconds']:6.2f} s, "
                f"server CPU {figure['cpu_seconds']:5.2f} s; {figure['seconds'] / bare['seconds']:4.1f}× the bare "
                f"server's time; target ≤ {TARGETS['connect_s']:.0f} s: {verdict(figure['seconds'] <= TARGETS['connect_s'])}"
            )
        print(
            f"  bare websockets server, same bytes (reference)   {bare['seconds']:6.2f} s, its CPU {bare['cpu_seconds']:5.2f} s"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/city_scale_bench")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--shelters", type=int, default=3050)
    parser.add_argument("--people", type=int, default=573_000)
    parser.add_argument("--left", type=int, default=60_000)
    parser.add_argument("--dashboards", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-sockets", action="store_true", help="skip the dashboards connecting")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--profile", action="store_true", help="py-spy on daphne while the cold wall connects")
    args = parser.parse_args()

    started = time.perf_counter()
    work_dir = Path(tempfile.mkdtemp(prefix="bench-city-"))
    os.environ.update(
        {"REDIS_URL": args.redis_url, "REDIS_PREFIX": f"city_scale_{os.getpid()}", "VAR_DIR": str(work_dir / "var")}
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # The load's INSERTs of half a million rows run longer than the site's statement timeout.
    os.environ["DB_STATEMENT_TIMEOUT_MS"] = "0"
    database = recreate_database(args.database_url)
    log(f"database {database} recreated; migrating")
    setup_django(args.database_url)
    ok = False
    try:
        log(f"loading {args.shelters:,} shelters, {args.people:,} people inside, {args.left:,} who left")
        loading = time.perf_counter()
        hq = load(shelters=args.shelters, people=args.people, left=args.left)
        vacuum_analyze(args.database_url)
        log(f"loaded in {time.perf_counter() - loading:.0f} s (counters recounted, VACUUM ANALYZE)")
        result = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "git": subprocess.run(
                ["git", "describe", "--always", "--dirty"], cwd=BASE_DIR, capture_output=True, text=True
            ).stdout.strip(),
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()[0]},
            "shelters": args.shelters,
            "people": args.people,
            "left": args.left,
            "dashboards_count": args.dashboards,
        }
        log(f"timing in process, {args.runs} runs each")
        result["in_process"] = in_process(url=args.database_url, user_id=hq["user_id"], runs=args.runs)
        log(f"   {result['in_process']}")
        if not args.no_sockets:
            vacuum_analyze(args.database_url)
            result["dashboards"] = dashboards(
                url=args.database_url,
                redis_url=args.redis_url,
                token=hq["token"],
                count=args.dashboards,
                concurrency=args.concurrency,
                work_dir=work_dir,
                profile=args.profile,
            )
        result["seconds"] = round(time.perf_counter() - started)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        with open(RESULTS_DIR / "city_scale.jsonl", "a") as out:
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
        report(result)
        print(f"({result['seconds']} s; appended to bench/results/city_scale.jsonl)")
        ok = True
    finally:
        from django.db import connection

        connection.close()
        if not args.keep:
            drop_database(args.database_url)
        if ok and not args.profile:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"server log kept in {work_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
