"""The one way events leave the server: after commit, serialized once, numbered per stream.

A stream is what one kind of dashboard listens to: `city` (every shelter, figures only) and
`shelter.<id>` (one shelter). Each event is an envelope

    {"type": "shelter.updated", "stream": "city", "epoch": "9f2c…", "seq": 42,
     "committed_at": 1732456789123.4, "data": {...}}

`seq` counts up by one per stream across every process (a Redis counter), so a client that sees a
gap knows it missed something and asks for a fresh snapshot. `epoch` names the counter: when Redis
loses it (restarted empty), numbers start again at 1 under a new epoch, and a client that sees
another epoch than its snapshot's asks for a fresh one too. `committed_at` is the wall-clock time
(ms) at which the transaction committed, so clients and benchmarks can measure delivery latency.
"""

import asyncio
import itertools
import json
import logging
import os
import secrets
import threading
import time
from collections import defaultdict
from typing import NamedTuple

import redis
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from realtime import catalogue, outage

logger = logging.getLogger(__name__)

CITY_STREAM = "city"


def shelter_stream(shelter_id: int) -> str:
    return f"shelter.{shelter_id}"


# --- Sequence numbers and epochs ----------------------------------------------------------------


class Position(NamedTuple):
    """Where a stream is: its epoch, and the number of its last event in that epoch."""

    epoch: str
    seq: int


def new_epoch() -> str:
    return secrets.token_hex(8)


class _LocalSequences:
    """In-process counters for the in-memory channel layer of unit tests (one process only).

    Their epoch is this object's: a new process (a new counter from 1) is a new epoch.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._epoch = new_epoch()
        self._epochs: dict[str, str] = {}  # streams renewed since (see renew)
        self._counters: dict[str, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._current: dict[str, int] = defaultdict(int)

    def next(self, stream: str) -> Position:
        with self._lock:
            value = next(self._counters[stream])
            self._current[stream] = value
            return Position(self._epochs.get(stream, self._epoch), value)

    def positions(self, streams: list[str]) -> dict[str, Position]:
        return {stream: Position(self._epochs.get(stream, self._epoch), self._current[stream]) for stream in streams}

    def renew(self, streams: list[str]) -> None:
        with self._lock:
            self._epochs.update((stream, new_epoch()) for stream in streams)


class _RedisSequences:
    """One Redis hash per stream holds its counter and its epoch, so they are lost together.

    A Redis restarted empty (or a key evicted) loses the counter: the next number is 1 again, and
    the first process to touch the stream writes a new epoch beside it (HSETNX), so clients that
    hold higher numbers of the old epoch know to load a fresh snapshot. Each read or increment is
    one MULTI/EXEC, so an epoch and a number always belong together.
    """

    def __init__(self, url: str, prefix: str):
        timeout = settings.REDIS_TIMEOUT_SECONDS
        self._client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix

    def _key(self, stream: str) -> str:
        return f"{self._prefix}:stream:{stream}"

    def next(self, stream: str) -> Position:
        key = self._key(stream)
        with self._client.pipeline(transaction=True) as pipeline:
            pipeline.hsetnx(key, "epoch", new_epoch())
            pipeline.hincrby(key, "seq", 1)
            pipeline.hget(key, "epoch")
            _created, seq, epoch = pipeline.execute()
        return Position(epoch.decode(), int(seq))

    def positions(self, streams: list[str]) -> dict[str, Position]:
        """Each stream's position now, in one round trip; a stream never counted is at 0."""
        with self._client.pipeline(transaction=True) as pipeline:
            for stream in streams:
                pipeline.hsetnx(self._key(stream), "epoch", new_epoch())
                pipeline.hmget(self._key(stream), "epoch", "seq")
            replies = pipeline.execute()[1::2]
        return {
            stream: Position(epoch.decode(), int(seq or 0))
            for stream, (epoch, seq) in zip(streams, replies, strict=True)
        }

    def renew(self, streams: list[str]) -> None:
        """Give each stream a new epoch, keeping its counter: every client holding it resynchronises."""
        with self._client.pipeline(transaction=True) as pipeline:
            for stream in streams:
                pipeline.hset(self._key(stream), "epoch", new_epoch())
            pipeline.execute()


def stream_position(stream: str) -> Position:
    return sequences().positions([stream])[stream]


_sequences = None


def sequences():
    global _sequences
    if _sequences is None:
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
        _sequences = (
            _LocalSequences()
            if backend.endswith("InMemoryChannelLayer")
            else _RedisSequences(settings.REDIS_URL, settings.REDIS_PREFIX)
        )
    return _sequences


# --- Sending ------------------------------------------------------------------------------------


def envelope(*, event_type: str, stream: str, position: Position, committed_at: float, data: dict) -> str:
    """The event as every client gets it (its schema: catalogue.Envelope)."""
    return json.dumps(
        {
            "type": event_type,
            "stream": stream,
            "epoch": position.epoch,
            "seq": position.seq,
            "committed_at": committed_at,
            "data": data,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def layer_message(*, event_type: str, text: str) -> dict:
    """What the channel layer carries to each process's hub: the envelope, and its type beside it
    so the hub need not parse the text to know which named lists an event refreshes."""
    return {"type": "stream.event", "text": text, "event": event_type}


def group_name(stream: str) -> str:
    return f"stream.{stream}"


class _Publisher:
    """One event loop per process, in a thread of its own, for sends from synchronous code.

    `async_to_sync(group_send)` from a thread with no loop (a Celery worker, a command) starts a
    loop and a Redis connection for every event, ~5 ms each. This loop and its connection live as
    long as the process. Made again after a fork (Celery's prefork pool), whose child has no thread.
    """

    TIMEOUT = 2.0  # seconds: at most this once per outage (realtime/outage.py), then nothing

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="broadcast-publisher", daemon=True).start()

    def group_send(self, layer, group: str, message: dict) -> None:
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), self.loop)
        try:
            future.result(self.TIMEOUT)
        except TimeoutError:
            future.cancel()  # don't let sends to a dead Redis pile up on the loop
            raise


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _group_send(layer, group: str, message: dict) -> None:
    global _publisher
    if isinstance(layer, InMemoryChannelLayer):
        # The in-memory layer of unit tests lives on the test's own loop.
        async_to_sync(layer.group_send)(group, message)
        return
    with _publisher_lock:
        if _publisher is None or _publisher.pid != os.getpid():
            _publisher = _Publisher()
    _publisher.group_send(layer, group, message)


def send(*, event_type: str, streams: list[str], data: dict, committed_at: float | None = None) -> None:
    """Send one event to each stream now. Call it from an on-commit hook, never inside a transaction.

    A broken channel layer must not break the write that already committed: clients resync from a
    snapshot when they reconnect or notice a gap.
    """
    if settings.REALTIME_CHECK_EVENTS:
        # Outside the try below: a payload that breaks its schema is a bug, not an outage.
        catalogue.check(event_type=event_type, streams=streams, data=data)
    committed_at = committed_at or time.time() * 1000
    layer = get_channel_layer()
    for stream in streams:
        try:
            # While Redis is out, events are dropped at once and counted (realtime/outage.py).
            sent = outage.EVENTS.run(lambda stream=stream: _send_one(layer, event_type, stream, data, committed_at))
        except Exception:
            logger.exception("Could not send %s to stream %s", event_type, stream)
            sent = False
        if not sent:
            _streams_dropped.add(stream)


# Streams this process dropped an event of. A dropped event may have taken no number (Redis did
# not answer the increment), so no client can see the gap: once Redis answers again, these streams
# get a new epoch, which the next heartbeat announces, and every client holding them resynchronises.
_streams_dropped: set[str] = set()


def renew_dropped_streams() -> None:
    streams = sorted(_streams_dropped)
    if streams:
        sequences().renew(streams)
        _streams_dropped.difference_update(streams)


outage.EVENTS.on_recovery.append(renew_dropped_streams)


def _send_one(layer, event_type: str, stream: str, data: dict, committed_at: float) -> None:
    position = sequences().next(stream)
    text = envelope(event_type=event_type, stream=stream, position=position, committed_at=committed_at, data=data)
    _group_send(layer, group_name(stream), layer_message(event_type=event_type, text=text))
