"""The shared half of the snapshots (realtime/streams.py): built once per stream position per
process, serialised once, and handed to every socket that asks at that position.

At city scale the city snapshot takes a while to build and is the same for every user allowed to
watch the city. Built per socket, a thousand dashboards reconnecting after a blip would cost a
thousand builds of the same bytes. Here the first socket that asks at a position starts the build
(in the thread pool) and every socket that asks at the same position meanwhile, or afterwards,
awaits that one build (single flight) and gets the same text.

Why keying by position is enough: each socket reads its stream's position (epoch, seq) after it
has joined the stream and before it asks (consumers.py), and the build starts after the first
asker read that position. Two sockets that read the same position saw no event numbered in
between, so the data built after the first read holds everything up to that number, and every
later event reaches both sockets with a higher number (a repeat of one the build already saw is
harmless: shelter versions). A new event moves the position, so the next socket builds afresh.

Some of it changes with no event (today's survey figures at midnight), so a build is also reused
for MAX_AGE seconds at most.
"""

import asyncio
import json
import time
import weakref
from dataclasses import dataclass

from realtime.broadcast import Position
from realtime.threads import in_pool

MAX_AGE = 5.0  # seconds a shared half is reused at the same position
KEPT_PER_STREAM = 2  # positions kept per stream: a socket that read the one before still finds it


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class SharedHalf:
    members: str  # the data object's members as JSON, without the braces ("" when there are none)
    keys: frozenset[str]


def _build(kind, key) -> SharedHalf:
    data = kind.shared_data(key)
    return SharedHalf(members=dumps(data)[1:-1] if data else "", keys=frozenset(data))


class SharedSnapshots:
    """A process's (an event loop's) shared halves, by stream and position."""

    def __init__(self):
        # stream -> {position: (started at, the build)}, oldest first
        self.entries: dict[str, dict[Position, tuple[float, asyncio.Task]]] = {}
        self.builds = 0  # how many were built: for the tests and the benchmark

    async def half(self, kind, key, stream: str, position: Position) -> SharedHalf:
        kept = self.entries.setdefault(stream, {})
        entry = kept.get(position)
        if entry is not None:
            started, build = entry
            failed = build.done() and (build.cancelled() or build.exception() is not None)
            if not failed and time.monotonic() - started < MAX_AGE:
                return await asyncio.shield(build)
        # A task of its own, so a socket that goes away while waiting does not cancel the others' build.
        build = asyncio.ensure_future(in_pool(_build)(kind, key))
        build.add_done_callback(_quiet)
        self.builds += 1
        kept.pop(position, None)
        kept[position] = (time.monotonic(), build)
        while len(kept) > KEPT_PER_STREAM:
            del kept[next(iter(kept))]
        return await asyncio.shield(build)


def _quiet(build: asyncio.Task) -> None:
    # Every waiter gets the error; this only stops asyncio logging "exception never retrieved".
    if not build.cancelled():
        build.exception()


_shared: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedSnapshots]" = weakref.WeakKeyDictionary()


def shared_snapshots() -> SharedSnapshots:
    """The running event loop's shared halves (a server has one loop; tests make a loop per test)."""
    loop = asyncio.get_running_loop()
    if loop not in _shared:
        _shared[loop] = SharedSnapshots()
    return _shared[loop]
