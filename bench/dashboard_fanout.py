#!/usr/bin/env python
"""Dashboard fan-out: commit-to-client latency of the city stream, against a bare `websockets` server.

    .venv/bin/python bench/dashboard_fanout.py [--dashboards 10,100,1000] [--rate 50] [--duration 20]
        [--warmup 2] [--writer service|publish|http] [--writer-processes 2] [--profile] [--json FILE]

What one run does (about five minutes with the defaults; results in docs/performance.md):

1. Builds a system as the integration tests do (tests/system.py): a fresh PostgreSQL database
   (DATABASE_URL is the admin URL, default postgres://postgres@127.0.0.1:5432/postgres), migrated
   and loaded with the demo, the Redis at REDIS_URL under a private prefix, and ONE daphne with
   DEBUG=0. It adds fresh people through the ORM in one `manage.py shell` (bulk_create: a benchmark
   seed, not a write path; the demo's ~300 people are not enough for rate x time x runs). Every
   check-in is a new person: every event is a real check-in, never a check-out.
2. For each number of dashboards N: N WebSocket clients, signed in as the demo `hq`, connect to
   /ws/city/ with the session cookie and Origin header (all at once, as a wall does after a
   restart), read the snapshot, then for every event (batch frames unwrapped) record
   now - committed_at (same machine, same clock). Meanwhile the writer makes --rate check-ins per
   second, open loop, for --warmup + --duration seconds; only events committed after the warm-up
   count. Loss: each client expects every sequence number between its snapshot's and the last one
   published (the Redis counter); `dup` counts events that came twice.
   Writers (--writer):
   - service (default): `stay_check_in`, the service the API calls, as hq, round robin over the open
     demo shelters, from --writer-processes `manage.py shell` processes with a few threads each.
     Not the HTTP API: one daphne serves 25-50 check-ins/s at most on this machine
     (docs/performance.md, check-in), so at 50/s through its API the figures measure a server
     drowning in requests, not the fan-out.
   - http: POST /api/check-ins/ to the dashboards' own daphne, as hq with the session and CSRF token.
   - publish: no check-ins; a real shelter state in the real envelope, sequence counter and channel
     group of realtime/broadcast.py, published from an event loop: the fan-out path alone.
   A subscriber on the city group's Redis channel splits the latency into commit -> PUBLISH (the
   writer's after-commit work) and PUBLISH -> dashboards (daphne and the clients).
3. The bare reference, same run, same N, same clients: a minimal websockets server
   (websockets.asyncio.server.serve + websockets.broadcast) in a subprocess that generates the
   events itself on the same open-loop schedule, stamps committed_at when it builds each one and
   broadcasts a real event's envelope (taken from the daphne run) as one frame per event.

The clients are websockets' own protocol layer (websockets.client.ClientProtocol) on plain
asyncio transports: the same parser as websockets' asyncio client without a task and a queue per
socket, because the clients share the two cores with the server and should take as little as
they can. Clients are split over --client-processes processes (auto: 1 up to 100 dashboards,
2 above). Events are found in frames with a regular expression on the envelope's fixed key order
(type, stream, seq, committed_at, data: realtime/broadcast.py), not a full JSON parse. No
compression is negotiated (daphne offers none).

CPU is reported as percent of one core (200 = both cores) per process group: daphne (or the bare
server), the client processes, this process, the writer processes and the whole machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections import Counter, defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The envelope's keys come in this order (realtime/broadcast.py: envelope), so one search finds
# every event of a frame, batched or not, without parsing the shelters' data.
EVENT = re.compile(rb'"seq":(\d+),"committed_at":([0-9.eE+-]+)')
# Handshakes in flight, over all client processes. daphne serves a connect's session, user,
# permission and snapshot reads on its one thread for sync code, with a new database connection
# each (CONN_MAX_AGE=0), and drops a socket its application has not accepted within 5 s
# (--websocket_connect_timeout): more than a few dozen in flight and sockets are reset.
CONNECT_CONCURRENCY = 10
CONNECT_ATTEMPTS = 5
DRAIN_TIMEOUT = 10.0
TARGET_P99_MS_AT_1000 = 250.0
TARGET_RATIO_AT_1000 = 2.0
TARGET_P50_MS_AT_10 = 20.0


def percentile(ordered, q: float) -> float:
    """Nearest rank on an already sorted sequence."""
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Dashboards: the client processes -------------------------------------------------------------


class Recorder:
    """What one client process saw, across its sockets."""

    def __init__(self):
        self.committed = array("d")
        self.latency = array("d")
        self.frames = 0
        self.events_in_frames = 0  # duplicates included, to tell how many events a frame carries
        self.sample: str | None = None


class Dashboard(asyncio.Protocol):
    def __init__(self, *, uri: str, origin: str, headers: dict[str, str], recorder: Recorder):
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        # No extensions offered: no permessage-deflate, as with daphne.
        self.protocol = ClientProtocol(parse_uri(uri), origin=origin, max_size=None)
        self.request = self.protocol.connect()
        for name, value in headers.items():
            self.request.headers[name] = value
        self.recorder = recorder
        loop = asyncio.get_running_loop()
        self.ready = loop.create_future()  # the snapshot arrived
        self.lost = loop.create_future()
        self.fragments: list[bytes] = []
        self.snapshot_seq: int | None = None
        self.last_seq = 0
        self.received = 0  # distinct events after the snapshot
        self.duplicates = 0
        self.out_of_order = 0
        self.seen = bytearray()  # by seq - snapshot_seq - 1
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        self.protocol.send_request(self.request)
        self._write()

    def connection_lost(self, exc):
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before the snapshot: {exc!r}"))
        if not self.lost.done():
            self.lost.set_result(None)

    def _write(self):
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def data_received(self, data):
        # One timestamp per read: bytes that waited in the socket while this process was busy
        # count as latency, as they would in a browser.
        now = time.time() * 1000
        from websockets.frames import Opcode
        from websockets.http11 import Response

        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if self.protocol.handshake_exc is not None and not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"handshake refused: {self.protocol.handshake_exc}"))
                continue
            if event.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                self.fragments.append(event.data)
                if event.fin:
                    payload = b"".join(self.fragments)
                    self.fragments = []
                    self.message(payload, now)
        self._write()

    def message(self, payload: bytes, now: float) -> None:
        if self.snapshot_seq is None:
            message = json.loads(payload)
            if message.get("type") == "snapshot":
                self.snapshot_seq = self.last_seq = message["seq"]
                self.ready.set_result(len(payload))
            return
        recorder = self.recorder
        recorder.frames += 1
        seen = self.seen
        for match in EVENT.finditer(payload):
            recorder.events_in_frames += 1
            seq = int(match[1])
            index = seq - self.snapshot_seq - 1
            if index < 0:
                continue  # already in the snapshot
            if index >= len(seen):
                seen.extend(bytes(index - len(seen) + 4096))
            if seen[index]:
                self.duplicates += 1
                continue
            seen[index] = 1
            if seq < self.last_seq:
                self.out_of_order += 1
            self.last_seq = max(self.last_seq, seq)
            self.received += 1
            committed = float(match[2])
            recorder.committed.append(committed)
            recorder.latency.append(now - committed)
        if recorder.sample is None:
            message = json.loads(payload)
            first = message["events"][0] if message.get("type") == "batch" else message
            recorder.sample = json.dumps(first, ensure_ascii=False, separators=(",", ":"))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            try:
                self.protocol.send_close()
                self._write()
            except Exception:
                self.transport.abort()


async def _connect_all(
    *, host: str, port: int, path: str, origin: str, headers, count: int, concurrency: int, recorder
):
    """Open `count` dashboards, `concurrency` handshakes at a time; a reset handshake is retried."""
    loop = asyncio.get_running_loop()
    uri = f"ws://{host}:{port}{path}"
    gate = asyncio.Semaphore(concurrency)
    retries = 0

    async def one() -> tuple[Dashboard, int]:
        nonlocal retries
        async with gate:
            for attempt in range(CONNECT_ATTEMPTS):
                _, dashboard = await loop.create_connection(
                    lambda: Dashboard(uri=uri, origin=origin, headers=headers, recorder=recorder), host, port
                )
                try:
                    return dashboard, await asyncio.wait_for(dashboard.ready, timeout=30)
                except (ConnectionError, TimeoutError):
                    dashboard.transport.abort()
                    if attempt == CONNECT_ATTEMPTS - 1:
                        raise
                    retries += 1
                    await asyncio.sleep(1 + attempt)

    results = await asyncio.gather(*(one() for _ in range(count)))
    return [dashboard for dashboard, _ in results], [size for _, size in results], retries


async def _client_main(conn) -> None:
    loop = asyncio.get_running_loop()
    dashboards: list[Dashboard] = []
    recorder = Recorder()
    while True:
        command, args = await loop.run_in_executor(None, conn.recv)
        if command == "connect":
            started = time.perf_counter()
            try:
                opened, sizes, retries = await _connect_all(recorder=recorder, **args)
            except Exception as error:
                conn.send(("error", f"{type(error).__name__}: {error}"))
                continue
            dashboards += opened
            conn.send(
                (
                    "ready",
                    {
                        "seconds": time.perf_counter() - started,
                        "snapshot_bytes": max(sizes or [0]),
                        "retries": retries,
                    },
                )
            )
        elif command == "collect":
            # Wait until every socket has every published event (or time runs out), then report.
            final_seq, measure_from = args["final_seq"], args["measure_from_ms"]
            deadline = time.monotonic() + DRAIN_TIMEOUT
            while time.monotonic() < deadline and any(d.received < final_seq - d.snapshot_seq for d in dashboards):
                await asyncio.sleep(0.05)
            latencies = array(
                "d", (lat for c, lat in zip(recorder.committed, recorder.latency, strict=True) if c >= measure_from)
            )
            conn.send(
                (
                    "collected",
                    {
                        "received": [d.received for d in dashboards],
                        "expected": [final_seq - d.snapshot_seq for d in dashboards],
                        "out_of_order": sum(d.out_of_order for d in dashboards),
                        "duplicates": sum(d.duplicates for d in dashboards),
                        "frames": recorder.frames,
                        "events": recorder.events_in_frames,
                        "latencies": latencies.tobytes(),
                        "sample": recorder.sample,
                    },
                )
            )
        elif command == "close":
            for dashboard in dashboards:
                dashboard.close()
            if dashboards:
                await asyncio.wait([d.lost for d in dashboards], timeout=3)
            for dashboard in dashboards:
                if dashboard.transport is not None and not dashboard.transport.is_closing():
                    dashboard.transport.abort()
            dashboards = []
            recorder = Recorder()
            conn.send(("closed", None))
        elif command == "exit":
            return


def client_process(conn) -> None:
    asyncio.run(_client_main(conn))


class Clients:
    """The client processes, driven over pipes."""

    def __init__(self, processes: int):
        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.processes = []
        for _ in range(processes):
            parent, child = context.Pipe()
            process = context.Process(target=client_process, args=(child,), daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    async def _ask(self, commands: list) -> list:
        loop = asyncio.get_running_loop()
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        answers = await asyncio.gather(*(loop.run_in_executor(None, pipe.recv) for pipe in self.pipes))
        for kind, value in answers:
            if kind == "error":
                raise RuntimeError(f"a client process failed: {value}")
        return [value for _, value in answers]

    async def connect(self, *, count: int, host: str, port: int, path: str, origin: str, headers: dict) -> dict:
        """Open `count` dashboards spread over the processes, all at once as a wall does after a restart.

        The first ones connect while daphne's hub has no subscription yet: the `dup` column checks
        that they share one (before dc0081f each started its own and every event came once per
        subscription).
        """
        started = time.perf_counter()
        concurrency = max(1, CONNECT_CONCURRENCY // len(self.pipes))
        args = {
            "host": host,
            "port": port,
            "path": path,
            "origin": origin,
            "headers": headers,
            "concurrency": concurrency,
        }
        share = [count // len(self.pipes) + (i < count % len(self.pipes)) for i in range(len(self.pipes))]
        answers = await self._ask([("connect", dict(args, count=n)) for n in share])
        return {
            "seconds": time.perf_counter() - started,
            "snapshot_bytes": max(a["snapshot_bytes"] for a in answers),
            "retries": sum(a["retries"] for a in answers),
        }

    async def collect(self, *, final_seq: int, measure_from_ms: float) -> dict:
        answers = await self._ask(
            [("collect", {"final_seq": final_seq, "measure_from_ms": measure_from_ms})] * len(self.pipes)
        )
        latencies = array("d")
        for answer in answers:
            latencies.frombytes(answer["latencies"])
        return {
            "received": [n for a in answers for n in a["received"]],
            "expected": [n for a in answers for n in a["expected"]],
            "out_of_order": sum(a["out_of_order"] for a in answers),
            "duplicates": sum(a["duplicates"] for a in answers),
            "frames": sum(a["frames"] for a in answers),
            "events": sum(a["events"] for a in answers),
            "latencies": sorted(latencies),
            "sample": next((a["sample"] for a in answers if a["sample"]), None),
        }

    async def close(self) -> None:
        await self._ask([("close", None)] * len(self.pipes))

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("exit", None))
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()


# --- The bare reference server ------------------------------------------------------------------


async def _bare_main(conn, port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    loop = asyncio.get_running_loop()
    clients: set = set()
    state = {"seq": 0}

    async def handler(websocket):
        clients.add(websocket)
        try:
            await websocket.send(json.dumps({"type": "snapshot", "stream": "city", "seq": state["seq"], "data": {}}))
            await websocket.wait_closed()
        finally:
            clients.discard(websocket)

    async def run(*, sample: dict, rate: float, count: int) -> int:
        started = time.perf_counter() + 0.05
        for index in range(count):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            state["seq"] += 1
            # Serialized once per event, like realtime/broadcast.py, then the same bytes to everyone.
            text = json.dumps(
                dict(sample, seq=state["seq"], committed_at=time.time() * 1000),
                ensure_ascii=False,
                separators=(",", ":"),
            )
            broadcast(clients, text)
        await asyncio.sleep(0.1)
        return state["seq"]

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, max_size=None, backlog=2048):
        conn.send(("listening", None))
        while True:
            command, args = await loop.run_in_executor(None, conn.recv)
            if command == "run":
                conn.send(("done", await run(**args)))
            elif command == "seq":
                conn.send(("seq", state["seq"]))
            elif command == "exit":
                return


def bare_process(conn, port: int) -> None:
    asyncio.run(_bare_main(conn, port))


# --- Load: check-ins over HTTP, open loop --------------------------------------------------------


async def check_ins(
    *, base_url: str, cookies: dict, csrf: str, shelters: list[int], people, rate: float, seconds: float
):
    import httpx

    statuses: Counter = Counter()
    samples: list[str] = []
    latencies: list[float] = []
    headers = {"X-CSRFToken": csrf, "Referer": base_url + "/"}
    async with httpx.AsyncClient(
        base_url=base_url, cookies=cookies, headers=headers, timeout=30, limits=httpx.Limits(max_connections=64)
    ) as client:

        async def one(index: int, scheduled: float) -> None:
            person = next(people)
            try:
                response = await client.post(
                    "/api/check-ins/",
                    json={"shelter": shelters[index % len(shelters)], "evacuees": [person]},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
            except httpx.HTTPError as error:
                statuses[type(error).__name__] += 1
                return
            statuses[response.status_code] += 1
            latencies.append(time.perf_counter() - scheduled)
            if response.status_code != 201 and len(samples) < 3:
                samples.append(f"{response.status_code}: {response.text[:200]}")

        tasks = []
        started = time.perf_counter() + 0.02
        for index in range(int(rate * seconds)):
            scheduled = started + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index, scheduled)))
        await asyncio.gather(*tasks)
    latencies.sort()
    return statuses, samples, latencies


# The same service the API calls, in a process of its own, so daphne only fans out (--writer service).
# Threads keep the schedule open loop when one check-in is slow.
WRITER = """
import json, time
from concurrent.futures import ThreadPoolExecutor
from django.db import connection
from shelters.models import User
from shelters.services import stay_check_in
args = json.loads({args!r})
actor = User.objects.get(username="hq")
connection.close()
statuses = {{}}
errors = []
durations = []

def one(index, person):
    started = time.perf_counter()
    try:
        stay_check_in(shelter_id=args["shelters"][index % len(args["shelters"])], evacuee_ids=[person], actor=actor)
        key = "201"
    except Exception as error:
        key = type(error).__name__
        errors.append(repr(error)[:300])
    finally:
        connection.close()  # back to the pool (DB_POOL), as at the end of a request
    durations.append(time.perf_counter() - started)
    statuses[key] = statuses.get(key, 0) + 1

with ThreadPoolExecutor(8) as pool:
    base = time.perf_counter() + (args["start_at"] - time.time())
    time.sleep(max(0.0, base - time.perf_counter()))
    cpu, wall = time.process_time(), time.perf_counter()
    for index, person in enumerate(args["people"]):
        delay = base + index / args["rate"] - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        pool.submit(one, index, person)
cpu_percent = round(100 * (time.process_time() - cpu) / (time.perf_counter() - wall))
durations.sort()
print("WRITER " + json.dumps({{
    "statuses": statuses,
    "cpu_percent": cpu_percent,
    "errors": errors[:3],
    "service_p50_ms": round(1000 * durations[len(durations) // 2], 1),
    "service_p99_ms": round(1000 * durations[int(len(durations) * 0.99)], 1),
    "overrun_s": round(time.perf_counter() - wall - len(args["people"]) / args["rate"], 1),
}}))
"""


# --writer publish: no check-ins, only the events. A real shelter's state in the same envelope, with
# the same sequence counter and the same channel-layer group as realtime/broadcast.py, sent from
# an event loop of its own; committed_at is stamped just before the INCR and PUBLISH. What is left
# is the fan-out path that the bare server stands in for: Redis, the channel layer, the hub, daphne.
PUBLISHER = """
import asyncio, json, time
from channels.layers import get_channel_layer
from realtime import broadcast
from shelters.selectors import shelter_states
args = json.loads({args!r})
states = shelter_states(shelter_ids=set(args["shelters"]))

async def main():
    layer = get_channel_layer()
    sequences = broadcast.sequences()
    loop = asyncio.get_running_loop()
    base = loop.time() + (args["start_at"] - time.time())
    await asyncio.sleep(max(0.0, base - loop.time()))
    cpu, wall = time.process_time(), time.perf_counter()
    for index in range(len(args["people"])):
        await asyncio.sleep(max(0.0, base + index / args["rate"] - loop.time()))
        committed_at = time.time() * 1000
        position = sequences.next(broadcast.CITY_STREAM)
        text = broadcast.envelope(
            event_type="shelter.updated", stream=broadcast.CITY_STREAM, position=position, committed_at=committed_at,
            data={{"shelters": [states[index % len(states)]]}},
        )
        await layer.group_send(
            broadcast.group_name(broadcast.CITY_STREAM), broadcast.layer_message(event_type="shelter.updated", text=text)
        )
    return round(100 * (time.process_time() - cpu) / (time.perf_counter() - wall))

cpu_percent = asyncio.run(main())
print("WRITER " + json.dumps({{
    "statuses": {{"published": len(args["people"])}}, "cpu_percent": cpu_percent, "errors": [],
    "service_p50_ms": None, "service_p99_ms": None, "overrun_s": None,
}}))
"""


async def _writer(
    *, code: str, env: dict, people: list[int], shelters: list[int], rate: float, start_at: float
) -> dict:
    payload = json.dumps({"people": people, "shelters": shelters, "rate": rate, "start_at": start_at})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "manage.py",
        "shell",
        "-c",
        code.format(args=payload),
        cwd=BASE_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    lines = [line for line in out.decode().splitlines() if line.startswith("WRITER ")]
    if process.returncode or not lines:
        raise RuntimeError(f"the writer failed:\n{out.decode()[-2000:]}\n{err.decode()[-2000:]}")
    return json.loads(lines[0][7:])


async def service_check_ins(
    *, ctx: dict, people, rate: float, seconds: float, start_at: float, processes: int, publish_only: bool
):
    """Check-ins (or with `publish_only`, bare events) at `rate` from `processes` writers, interleaved.

    One process cannot keep up: a check-in costs ~20 ms of Python in the service alone, and at
    50/s one process's threads queue behind the GIL, delaying each commit's event by tens of ms.
    """
    chosen = [next(people) for _ in range(int(rate * seconds))]
    answers = await asyncio.gather(
        *(
            _writer(
                code=PUBLISHER if publish_only else WRITER,
                env=ctx["env"],
                people=chosen[k::processes],
                shelters=ctx["shelters"][k:] + ctx["shelters"][:k],
                rate=rate / processes,
                start_at=start_at + k / rate,
            )
            for k in range(processes)
        )
    )
    statuses = Counter()
    for answer in answers:
        statuses.update({(int(k) if k.isdigit() else k): v for k, v in answer["statuses"].items()})
    summary = {
        "cpu_percent": sum(a["cpu_percent"] for a in answers),
        "errors": [e for a in answers for e in a["errors"]][:3],
        "service_p50_ms": max((a["service_p50_ms"] or 0) for a in answers),
        "service_p99_ms": max((a["service_p99_ms"] or 0) for a in answers),
        "overrun_s": max((a["overrun_s"] or 0) for a in answers),
    }
    return statuses, summary


class RedisTap:
    """Listens to the city group's Redis pub/sub channel beside daphne: commit-to-Redis latency.

    Splits the daphne figure in two: up to the PUBLISH reaching a subscriber (the writer's on-commit
    work, the channel layer, Redis) and from there to the dashboards (daphne and the clients).
    """

    def __init__(self, *, redis_url: str, prefix: str):
        import threading

        import redis

        self.pubsub = redis.Redis.from_url(redis_url).pubsub()
        # channels_redis's RedisPubSubChannelLayer names a group's channel like this.
        self.pubsub.subscribe(f"{prefix}__group__stream.city")
        self.samples: list[tuple[float, float]] = []
        self.running = True
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while self.running:
            message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message is None:
                continue
            now = time.time() * 1000
            for match in EVENT.finditer(message["data"]):
                committed = float(match[2])
                self.samples.append((committed, now - committed))

    def latencies(self, measure_from_ms: float) -> list[float]:
        return sorted(latency for committed, latency in self.samples if committed >= measure_from_ms)

    def stop(self) -> None:
        self.running = False
        self.thread.join(timeout=2)
        self.pubsub.close()


# --- Measuring processes --------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ticks(pid: int) -> int:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def _machine() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups

    def snapshot(self) -> dict:
        return {
            "at": time.perf_counter(),
            "groups": {name: sum(_ticks(pid) for pid in pids) for name, pids in self.groups.items()},
            "machine": _machine(),
        }

    @staticmethod
    def percent(before: dict, after: dict) -> dict[str, int]:
        """Percent of one core; 200 is both cores of this machine."""
        wall = after["at"] - before["at"]
        result = {
            name: round(100 * (after["groups"][name] - before["groups"][name]) / CLOCK_TICKS / wall)
            for name in before["groups"]
        }
        busy = after["machine"][0] - before["machine"][0]
        total = after["machine"][1] - before["machine"][1]
        result["machine"] = round(100 * (os.cpu_count() or 1) * busy / max(total, 1))
        return result


def start_profile(pid: int, seconds: float, output: Path) -> subprocess.Popen | None:
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        log("py-spy is not installed (.venv/bin/pip install py-spy): no profile")
        return None
    return subprocess.Popen(
        [
            str(py_spy),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--duration",
            str(max(1, int(seconds))),
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _area(frame: str) -> str:
    """A frame `function (path:line)` by its top-level package (py-spy shortens the paths)."""
    path = frame[frame.rfind("(") + 1 :].rsplit(":", 1)[0]
    if "site-packages/" in path:
        path = path.split("site-packages/")[1]
    elif "/lib/python3" in path:
        path = path.split("/lib/python3")[1].split("/", 2)[-1]
    head = path.split("/")[0]
    return head.removesuffix(".py") if head else "other"


def summarize_profile(output: Path) -> dict:
    """Self time by function and by package, and inclusive time by package, from py-spy's raw output."""
    functions: Counter = Counter()
    self_areas: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    if not output.exists():
        return {}
    for line in output.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        frames = [f for f in stack.split(";") if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        functions[frames[-1]] += count
        self_areas[_area(frames[-1])] += count
        for area in {_area(f) for f in frames}:
            inclusive[area] += count
    if not total:
        return {}

    def share(counter: Counter, n: int) -> dict:
        return {k: round(100 * v / total, 1) for k, v in counter.most_common(n)}

    return {
        "samples": total,
        "functions": share(functions, 12),
        "self": share(self_areas, 10),
        "inclusive": share(inclusive, 14),
    }


# --- One measured phase ---------------------------------------------------------------------------


def summarize(name: str, dashboards: int, collected: dict, cpu: dict, **extra) -> dict:
    ordered = collected["latencies"]
    received, expected = collected["received"], collected["expected"]
    return {
        "server": name,
        "dashboards": dashboards,
        "events_per_client_min": min(received),
        "events_per_client_max": max(received),
        "expected_per_client": max(expected),
        "lost": sum(max(0, e - r) for e, r in zip(expected, received, strict=True)),
        "out_of_order": collected["out_of_order"],
        "duplicates": collected["duplicates"],
        "events_per_frame": round(collected["events"] / max(collected["frames"], 1), 1),
        "samples": len(ordered),
        "p50_ms": round(percentile(ordered, 0.50), 1),
        "p95_ms": round(percentile(ordered, 0.95), 1),
        "p99_ms": round(percentile(ordered, 0.99), 1),
        "max_ms": round(ordered[-1], 1) if ordered else float("nan"),
        "cpu": cpu,
        **extra,
    }


async def measure_daphne(*, n: int, ctx: dict, people, args) -> dict:
    import redis

    clients: Clients = ctx["clients"]
    pid = ctx["daphne_pid"]
    steps = {"start": time.perf_counter()}
    rss_before = rss_mb(pid)
    connected = await clients.connect(
        count=n,
        host="127.0.0.1",
        port=ctx["daphne_port"],
        path="/ws/city/",
        origin=ctx["base_url"],
        headers={"Cookie": ctx["cookie"]},
    )
    await asyncio.sleep(1.0)
    rss_connected = rss_mb(pid)
    sequences = redis.Redis.from_url(ctx["redis_url"])
    seq_key = f"{ctx['prefix']}:seq:city"
    seq_before = int(sequences.get(seq_key) or 0)
    # Every consumer also gets a channel of its own from the channel layer (channels' AsyncConsumer),
    # which the pub/sub layer subscribes in Redis, though only the hub's channel carries events.
    subscriptions = len(sequences.pubsub_channels(f"{ctx['prefix']}*"))

    tap = RedisTap(redis_url=ctx["redis_url"], prefix=ctx["prefix"])
    meter = ctx["meter_daphne"]
    # The service writer needs a moment to start Django before its schedule begins.
    start_in = 0.0 if args.writer == "http" else 4.0
    measure_from_ms = (time.time() + start_in + args.warmup) * 1000
    loop = asyncio.get_running_loop()
    marks: dict = {}
    loop.call_later(start_in + args.warmup, lambda: marks.__setitem__("from", meter.snapshot()))
    profile = None
    if args.profile:
        profile_path = ctx["workdir"] / f"daphne-{n}.pyspy"
        loop.call_later(
            start_in + args.warmup,
            lambda: marks.__setitem__("profile", start_profile(pid, args.duration, profile_path)),
        )
    if args.writer != "http":
        statuses, writer = await service_check_ins(
            ctx=ctx,
            people=people,
            rate=args.rate,
            seconds=args.warmup + args.duration,
            start_at=time.time() + start_in,
            processes=1 if args.writer == "publish" else args.writer_processes,
            publish_only=args.writer == "publish",
        )
        samples, request_latencies = writer.pop("errors"), []
    else:
        statuses, samples, request_latencies = await check_ins(
            base_url=ctx["base_url"],
            cookies=ctx["cookies"],
            csrf=ctx["csrf"],
            shelters=ctx["shelters"],
            people=people,
            rate=args.rate,
            seconds=args.warmup + args.duration,
        )
    cpu = CpuMeter.percent(marks["from"], meter.snapshot())
    if args.writer != "http":
        cpu["writer"] = writer.pop("cpu_percent")
    else:
        writer = {}
    steps["load"] = time.perf_counter()
    final_seq = int(sequences.get(seq_key) or 0)
    collected = await clients.collect(final_seq=final_seq, measure_from_ms=measure_from_ms)
    steps["collect"] = time.perf_counter()
    tap.stop()
    to_redis = tap.latencies(measure_from_ms)
    rss_loaded = rss_mb(pid)
    if args.profile and marks.get("profile") is not None:
        marks["profile"].wait(timeout=args.duration + 30)
        profile = summarize_profile(profile_path)
    await clients.close()
    steps["close"] = time.perf_counter()
    created = statuses.get(201, 0)
    return summarize(
        "daphne",
        n,
        collected,
        cpu,
        check_ins=dict(statuses),
        check_in_errors=samples,
        check_in_p50_ms=round(1000 * percentile(request_latencies, 0.5), 1),
        check_in_p99_ms=round(1000 * percentile(request_latencies, 0.99), 1),
        writer=writer,
        published=final_seq - seq_before,
        created=created,
        rss_mb=[round(rss_before), round(rss_connected), round(rss_loaded)],
        connect_seconds=round(connected["seconds"], 1),
        snapshot_bytes=connected["snapshot_bytes"],
        connect_retries=connected["retries"],
        redis_subscriptions=subscriptions,
        to_redis_p50_ms=round(percentile(to_redis, 0.5), 1),
        to_redis_p99_ms=round(percentile(to_redis, 0.99), 1),
        to_redis_samples=len(to_redis),
        sample=collected["sample"],
        profile=profile,
        seconds={
            "connect": round(connected["seconds"], 1),
            "load": round(steps["load"] - steps["start"] - connected["seconds"], 1),
            "collect": round(steps["collect"] - steps["load"], 1),
            "close": round(steps["close"] - steps["collect"], 1),
        },
    )


async def measure_bare(*, n: int, ctx: dict, args, sample: str) -> dict:
    clients: Clients = ctx["clients"]
    bare = ctx["bare"]
    loop = asyncio.get_running_loop()
    rss_before = rss_mb(bare.pid)
    connected = await clients.connect(
        count=n,
        host="127.0.0.1",
        port=ctx["bare_port"],
        path="/",
        origin=f"http://127.0.0.1:{ctx['bare_port']}",
        headers={},
    )
    await asyncio.sleep(1.0)
    rss_connected = rss_mb(bare.pid)
    meter = ctx["meter_bare"]
    measure_from_ms = (time.time() + args.warmup) * 1000
    marks: dict = {}
    loop.call_later(args.warmup, lambda: marks.__setitem__("from", meter.snapshot()))
    ctx["bare_pipe"].send(
        (
            "run",
            {
                "sample": json.loads(sample),
                "rate": args.rate,
                "count": int(args.rate * (args.warmup + args.duration)),
            },
        )
    )
    _, final_seq = await loop.run_in_executor(None, ctx["bare_pipe"].recv)
    cpu = CpuMeter.percent(marks["from"], meter.snapshot())
    collected = await clients.collect(final_seq=final_seq, measure_from_ms=measure_from_ms)
    rss_loaded = rss_mb(bare.pid)
    await clients.close()
    return summarize(
        "bare",
        n,
        collected,
        cpu,
        rss_mb=[round(rss_before), round(rss_connected), round(rss_loaded)],
        connect_seconds=round(connected["seconds"], 1),
    )


# --- Setting up the system ------------------------------------------------------------------------

SEED = """
import json
from shelters.models import DataSource, Evacuee, Shelter, ShelterStatus
Evacuee.objects.bulk_create(
    (Evacuee(walk_in_id=f"WFANOUT{{n:06d}}", name=f"会津 花子{{n}}", name_kana=f"アイヅ ハナコ{{n}}",
             source=DataSource.SAMPLE) for n in range({count})),
    batch_size=2000,
)
people = list(Evacuee.objects.filter(walk_in_id__startswith="WFANOUT").order_by("id").values_list("id", flat=True))
shelters = list(Shelter.objects.filter(status__in=[ShelterStatus.OPEN, ShelterStatus.FULL]).order_by("id")
                .values_list("id", flat=True))
print("SEED " + json.dumps({{"people": people, "shelters": shelters}}))
"""


def stop_system(system) -> None:
    """Stop daphne and drop the database; PostgreSQL may be out of connections for a moment."""
    import psycopg

    try:
        system.stop()
        return
    except psycopg.OperationalError as error:
        log(f"could not drop {system.database_url.rsplit('/', 1)[1]} yet: {error}")
    for _ in range(20):
        time.sleep(3)
        try:
            system._drop()
            return
        except psycopg.OperationalError:
            pass
    log(f"gave up: drop database {system.database_url.rsplit('/', 1)[1]} by hand")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


def fmt_cpu(cpu: dict) -> str:
    return " ".join(f"{k} {v}" for k, v in cpu.items())


def report(results: list[dict], args, machine: dict) -> None:
    print()
    print(
        f"== dashboard fan-out: {machine['cores']} cores ({machine['cpu']}), load {machine['load_start']} at start, "
        f"{machine['load_end']} at end; {args.rate:.0f} check-ins/s, {args.duration:.0f} s measured after "
        f"{args.warmup:.0f} s warm-up"
    )
    header = (
        f"{'N':>5}  {'server':17}{'events/client':>15}{'lost':>6}{'dup':>7}{'ev/frame':>9}"
        f"{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}  {'RSS MB before/conn/after':>25}  CPU % of a core"
    )
    print(header)
    for r in results:
        events = (
            f"{r['events_per_client_min']}"
            if r["events_per_client_min"] == r["events_per_client_max"]
            else f"{r['events_per_client_min']}-{r['events_per_client_max']}"
        )
        events += f"/{r['expected_per_client']}"
        rss = "/".join(str(x) for x in r["rss_mb"])
        print(
            f"{r['dashboards']:>5}  {r['server']:17}{events:>15}{r['lost']:>6}{r['duplicates']:>7}{r['events_per_frame']:>9}"
            f"{r['p50_ms']:>8}{r['p95_ms']:>8}{r['p99_ms']:>8}{r['max_ms']:>8}  {rss:>25}  {fmt_cpu(r['cpu'])}"
        )
    print()
    print("server CPU per event (all sockets) and per event per socket:")
    for r in results:
        server = "daphne" if r["server"] == "daphne" else "bare"
        per_event_ms = 10 * r["cpu"][server] / args.rate
        print(
            f"   N={r['dashboards']:<5} {r['server']:17} {per_event_ms:6.1f} ms/event, "
            f"{1000 * per_event_ms / r['dashboards']:6.1f} us/event/socket"
        )
    by_n = defaultdict(dict)
    for r in results:
        by_n[r["dashboards"]][r["server"]] = r
    for n, servers in by_n.items():
        daphne = servers.get("daphne")
        if not daphne:
            continue
        if "bare" in servers:
            bare = servers["bare"]
            print(
                f"N={n}: daphne / bare: p50 {daphne['p50_ms'] / bare['p50_ms']:.1f}x, "
                f"p99 {daphne['p99_ms'] / bare['p99_ms']:.1f}x"
            )
        requests = (
            f" (request p50 {daphne['check_in_p50_ms']} ms, p99 {daphne['check_in_p99_ms']} ms)"
            if args.writer == "http"
            else f" by the {args.writer} writer ({daphne['cpu'].get('writer')}% of a core, {daphne['writer']})"
        )
        print(
            f"N={n}: check-ins {daphne['check_ins']}{requests}, city events published {daphne['published']}, "
            f"daphne RSS +{(daphne['rss_mb'][1] - daphne['rss_mb'][0])} MB on connecting "
            f"({daphne['connect_seconds']} s to connect, {daphne['connect_retries']} handshakes retried, "
            f"snapshot {daphne['snapshot_bytes']} B, {daphne['redis_subscriptions']} Redis pub/sub channels)"
        )
        print(
            f"N={n}: commit -> PUBLISH seen by a Redis subscriber: p50 {daphne['to_redis_p50_ms']} ms, "
            f"p99 {daphne['to_redis_p99_ms']} ms ({daphne['to_redis_samples']} events); the rest is daphne + clients"
        )
        for error in daphne["check_in_errors"]:
            print(f"   check-in error {error}")
    if by_n.get(10, {}).get("daphne"):
        p50 = by_n[10]["daphne"]["p50_ms"]
        print(
            f"target: 10 dashboards p50 <= {TARGET_P50_MS_AT_10:.0f} ms: {p50} ms, {'MET' if p50 <= TARGET_P50_MS_AT_10 else 'NOT MET'}"
        )
    if by_n.get(1000, {}).get("daphne"):
        daphne, bare = by_n[1000]["daphne"], by_n[1000].get("bare")
        met = daphne["p99_ms"] <= TARGET_P99_MS_AT_1000
        print(
            f"target: 1000 dashboards p99 <= {TARGET_P99_MS_AT_1000:.0f} ms: {daphne['p99_ms']} ms, {'MET' if met else 'NOT MET'}"
        )
        if bare:
            ratio = daphne["p99_ms"] / bare["p99_ms"]
            print(
                f"target: 1000 dashboards p99 <= {TARGET_RATIO_AT_1000:.0f}x bare: {ratio:.1f}x, "
                f"{'MET' if ratio <= TARGET_RATIO_AT_1000 else 'NOT MET'}"
            )
    for r in results:
        profile = r.get("profile")
        if profile:
            print(f"py-spy of daphne at N={r['dashboards']} ({profile['samples']} samples), self time by package:")
            print("   " + ", ".join(f"{k} {v}%" for k, v in profile["self"].items()))
            print("   inclusive: " + ", ".join(f"{k} {v}%" for k, v in profile["inclusive"].items()))
            print("   top functions (self):")
            for function, share in profile["functions"].items():
                print(f"     {share:5.1f}%  {function}")


async def run(args, ctx: dict, people) -> list[dict]:
    results = []
    sample = None
    for n in args.dashboards:
        log(f"{n} dashboards on daphne")
        daphne = await measure_daphne(n=n, ctx=ctx, people=people, args=args)
        results.append(daphne)
        sample = sample or daphne.pop("sample")
        daphne.pop("sample", None)
        log(
            f"   p50 {daphne['p50_ms']} ms, p99 {daphne['p99_ms']} ms, lost {daphne['lost']}; "
            f"check-ins {daphne['check_ins']}, CPU {fmt_cpu(daphne['cpu'])}; seconds {daphne['seconds']}"
        )
        log(f"{n} dashboards on the bare server")
        bare = await measure_bare(n=n, ctx=ctx, args=args, sample=sample)
        results.append(bare)
        log(f"   p50 {bare['p50_ms']} ms, p99 {bare['p99_ms']} ms, lost {bare['lost']}, CPU {fmt_cpu(bare['cpu'])}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dashboards", default="10,100,1000", help="comma-separated numbers of dashboards")
    parser.add_argument("--rate", type=float, default=50.0, help="check-ins per second")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--client-processes", default="auto", help="client processes: a number, or auto")
    parser.add_argument(
        "--writer",
        choices=["service", "http", "publish"],
        default="service",
        help="service (default): stay_check_in, the service the API calls, in processes of their own, so "
        "the dashboards' daphne only fans out; http: POST /api/check-ins/ to that same daphne; publish: "
        "no check-ins, real envelopes published straight to the channel layer (fan-out only)",
    )
    parser.add_argument("--writer-processes", type=int, default=2, help="service writer processes")
    parser.add_argument("--profile", action="store_true", help="py-spy daphne during each measured window")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    args.dashboards = [int(n) for n in args.dashboards.split(",")]

    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    from tests.system import Session, System, free_port

    machine = {"cores": os.cpu_count(), "cpu": cpu_model(), "load_start": round(os.getloadavg()[0], 2)}
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="dashboard-fanout-"))
    log(f"fresh database, migrate, load_demo (work dir {workdir})")
    system = System(workdir=workdir, redis_url=redis_url)
    clients = bare = None
    ok = False
    try:
        needed = int(args.rate * (args.warmup + args.duration) * len(args.dashboards)) + 100
        output = system.manage("shell", "-c", SEED.format(count=needed))
        log(f"database {system.database_url.rsplit('/', 1)[1]}, Redis prefix {system.prefix}")
        seeded = json.loads(next(line[5:] for line in output.splitlines() if line.startswith("SEED ")))
        log(f"{len(seeded['people'])} fresh people, {len(seeded['shelters'])} open shelters")
        system.env["DEBUG"] = "0"  # as in production: no query log, no debug pages
        system.env["API_THROTTLE_USER"] = ""  # HQ's check-ins at the bench's rate: not the throttle's business
        base_url = system.start_daphne()
        daphne_pid = system.processes[-1].pid
        hq = Session(base_url, "hq")

        processes = args.client_processes
        processes = (1 if max(args.dashboards) <= 100 else 2) if processes == "auto" else int(processes)
        clients = Clients(processes)
        context = multiprocessing.get_context("spawn")
        bare_port = free_port()
        bare_pipe, child = context.Pipe()
        bare = context.Process(target=bare_process, args=(child, bare_port), daemon=True)
        bare.start()
        if bare_pipe.recv()[0] != "listening":
            raise RuntimeError("the bare server did not start")

        ctx = {
            "workdir": workdir,
            "base_url": base_url,
            "daphne_port": int(base_url.rsplit(":", 1)[1]),
            "daphne_pid": daphne_pid,
            "cookie": hq.cookie_header,
            "cookies": dict(hq.client.cookies.items()),
            "csrf": hq.client.cookies.get("csrftoken", ""),
            "shelters": seeded["shelters"],
            "redis_url": redis_url,
            "prefix": system.prefix,
            "clients": clients,
            "bare": bare,
            "bare_port": bare_port,
            "bare_pipe": bare_pipe,
            "env": system.env,
            "meter_daphne": CpuMeter({"daphne": [daphne_pid], "clients": clients.pids, "bench": [os.getpid()]}),
            "meter_bare": CpuMeter({"bare": [bare.pid], "clients": clients.pids, "bench": [os.getpid()]}),
        }
        results = asyncio.run(run(args, ctx, iter(seeded["people"])))
        machine["load_end"] = round(os.getloadavg()[0], 2)
        report(results, args, machine)
        if args.json:
            args.json.write_text(
                json.dumps({"machine": machine, "args": vars(args), "results": results}, default=str, indent=1)
            )
        print(f"({time.perf_counter() - started:.0f} s)")
        ok = True
    finally:
        if clients is not None:
            clients.stop()
        if bare is not None:
            with contextlib.suppress(OSError):
                bare_pipe.send(("exit", None))
            bare.join(timeout=5)
            if bare.is_alive():
                bare.terminate()
        stop_system(system)
        if ok and not args.profile:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs (and py-spy's raw profiles) kept in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
