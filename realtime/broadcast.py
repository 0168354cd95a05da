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

`send_many` sends several events to several streams in ONE Redis round trip (a Lua script that
numbers each envelope and publishes it, see `_RedisSequences.publish`): a check-in's city event and
its shelters' events cost one round trip instead of two per stream.
"""

import asyncio
import itertools
import json
import logging
import os
import secrets
import threading
import time
import weakref
from collections import defaultdict
from typing import NamedTuple

import redis
from asgiref.sync import async_to_sync
from channels.layers import DEFAULT_CHANNEL_LAYER, InMemoryChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
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


# KEYS: the streams' hashes. ARGV: a fresh epoch per key (written only where the hash has none),
# then six per envelope: its key's number in KEYS, the channel, the serialized channel-layer message
# up to its text (see _MessageFraming), and the envelope text before the epoch, between the epoch
# and the number, after the number. The text is completed here and framed as msgpack frames a str
# (msgpack.packb, use_bin_type): fixstr, str8, str16, str32 by length in bytes.
_PUBLISH_SCRIPT = """
local function str_header(n)
  if n < 32 then return string.char(160 + n) end
  if n < 256 then return string.char(217, n) end
  if n < 65536 then return string.char(218, math.floor(n / 256), n % 256) end
  return string.char(219, math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256,
                     math.floor(n / 256) % 256, n % 256)
end
local epochs = {}
for i, key in ipairs(KEYS) do
  redis.call('HSETNX', key, 'epoch', ARGV[i])
  epochs[i] = redis.call('HGET', key, 'epoch')
end
local positions = {}
for at = #KEYS + 1, #ARGV, 6 do
  local i = tonumber(ARGV[at])
  local seq = redis.call('HINCRBY', KEYS[i], 'seq', 1)
  local text = ARGV[at + 3] .. epochs[i] .. ARGV[at + 4] .. string.format('%d', seq) .. ARGV[at + 5]
  redis.call('PUBLISH', ARGV[at + 1], ARGV[at + 2] .. str_header(#text) .. text)
  positions[#positions + 1] = {epochs[i], seq}
end
return positions
"""


class _RedisSequences:
    """One Redis hash per stream holds its counter and its epoch, so they are lost together.

    A Redis restarted empty (or a key evicted) loses the counter: the next number is 1 again, and
    the first process to touch the stream writes a new epoch beside it (HSETNX), so clients that
    hold higher numbers of the old epoch know to load a fresh snapshot. Each read or increment is
    one MULTI/EXEC, and `publish` one script, so an epoch and a number always belong together.
    """

    def __init__(self, url: str, prefix: str):
        timeout = settings.REDIS_TIMEOUT_SECONDS
        self._client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix
        # EVALSHA; redis-py loads the script (two more round trips) the first time a Redis lacks it.
        self._publish = self._client.register_script(_PUBLISH_SCRIPT)

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

    def publish(self, outgoing: list["Outgoing"]) -> list[Position]:
        """Number every envelope and publish it, in one round trip; the positions, in order.

        One script, so Redis runs it whole with nothing in between: a stream's numbers are
        published in their order even when processes publish at the same moment (with an increment
        then a publish, another process's number could overtake). Each hash gets its epoch (HSETNX)
        before its first increment, as in `next`.
        """
        keys = list(dict.fromkeys(self._key(item.stream) for item in outgoing))
        index = {key: number for number, key in enumerate(keys, 1)}
        args: list = [new_epoch() for _ in keys]
        for item in outgoing:
            text = item.text
            args += [index[self._key(item.stream)], item.channel, item.head, text.before, text.between, text.after]
        replies = self._publish(keys=keys, args=args)
        return [Position(epoch.decode(), int(seq)) for epoch, seq in replies]


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


def _dumps(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


class EnvelopeText(NamedTuple):
    """An envelope's text around its position: `before` epoch `between` seq `after`.

    Made before the stream's number is known, so that Redis can put the number in and publish in
    the same round trip (`_RedisSequences.publish`). Epochs are hex (`new_epoch`): nothing to escape.
    """

    before: str
    between: str
    after: str

    def at(self, position: Position) -> str:
        return f"{self.before}{position.epoch}{self.between}{position.seq}{self.after}"


def envelope_text(*, event_type: str, stream: str, after_position: str) -> EnvelopeText:
    """`after_position` is `envelope_tail(...)`: an event's committed_at and data, serialized once
    for all the streams it goes to."""
    return EnvelopeText(_dumps({"type": event_type, "stream": stream})[:-1] + ',"epoch":"', '","seq":', after_position)


def envelope_tail(*, committed_at: float, data: dict) -> str:
    return "," + _dumps({"committed_at": committed_at, "data": data})[1:]


def envelope(*, event_type: str, stream: str, position: Position, committed_at: float, data: dict) -> str:
    """The event as every client gets it (its schema: catalogue.Envelope):
    {"type", "stream", "epoch", "seq", "committed_at", "data"}, compact JSON, UTF-8 as is."""
    tail = envelope_tail(committed_at=committed_at, data=data)
    return envelope_text(event_type=event_type, stream=stream, after_position=tail).at(position)


def layer_message(*, event_type: str, text: str) -> dict:
    """What the channel layer carries to each process's hub: the envelope, and its type beside it
    so the hub need not parse the text to know which named lists an event refreshes.

    The text comes last, so its serialized form ends with the text (see `_MessageFraming`)."""
    return {"type": "stream.event", "event": event_type, "text": text}


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


class Event(NamedTuple):
    """One event for `send_many`: its type, the streams it goes to, its data."""

    event_type: str
    streams: list[str]
    data: dict


class Outgoing(NamedTuple):
    """One envelope on its way through Redis (`_RedisSequences.publish`)."""

    stream: str
    channel: str  # the pub/sub channel of the stream's group, as the channel layer names it
    head: bytes  # the serialized layer message up to its text
    text: EnvelopeText


def send(*, event_type: str, streams: list[str], data: dict, committed_at: float | None = None) -> None:
    """Send one event to each stream now. Call it from an on-commit hook, never inside a transaction."""
    send_many([Event(event_type, streams, data)], committed_at=committed_at)


def send_many(events: list[Event | tuple[str, list[str], dict]], *, committed_at: float | None = None) -> None:
    """Send each event to each of its streams now, in one Redis round trip when the channel layer
    is Redis pub/sub on the counters' Redis. Call it from an on-commit hook, never inside a transaction.

    A broken channel layer must not break the write that already committed: clients resync from a
    snapshot when they reconnect or notice a gap. While Redis is out, the events are dropped at once
    and counted (realtime/outage.py: one drop per call here, one per stream on the fallback path).
    """
    events = [Event(*event) for event in events]
    if settings.REALTIME_CHECK_EVENTS:
        # Outside the try below: a payload that breaks its schema is a bug, not an outage.
        for event in events:
            catalogue.check(event_type=event.event_type, streams=event.streams, data=event.data)
    committed_at = committed_at or time.time() * 1000
    layer = get_channel_layer()
    channel_prefix = _one_round_trip_prefix(layer)
    if channel_prefix is None:
        for event in events:
            _send_each(layer, event, committed_at)
        return
    streams = [stream for event in events for stream in event.streams]
    try:
        outgoing = _outgoing(layer, channel_prefix, events, committed_at)
        if outgoing is None:
            # The layer's serializer is not one Redis can finish (see _MessageFraming).
            for event in events:
                _send_each(layer, event, committed_at)
            return
        if not outgoing:
            return
        sent = outage.EVENTS.run(lambda: sequences().publish(outgoing))
    except Exception:
        logger.exception("Could not send %s to streams %s", sorted({e.event_type for e in events}), streams)
        sent = False
    if not sent:
        _streams_dropped.update(streams)


def _send_each(layer, event: Event, committed_at: float) -> None:
    """The path of the in-memory layer (unit tests) and of other layers: two round trips per stream."""
    for stream in event.streams:
        try:
            # While Redis is out, events are dropped at once and counted (realtime/outage.py).
            sent = outage.EVENTS.run(
                lambda stream=stream: _send_one(layer, event.event_type, stream, event.data, committed_at)
            )
        except Exception:
            logger.exception("Could not send %s to stream %s", event.event_type, stream)
            sent = False
        if not sent:
            _streams_dropped.add(stream)


def _one_round_trip_prefix(layer) -> str | None:
    """The channel layer's prefix when `_RedisSequences.publish` can publish for it: a Redis pub/sub
    layer on one host, the counters' own Redis. None otherwise (the in-memory layer of unit tests)."""
    if not isinstance(layer, RedisPubSubChannelLayer) or not isinstance(sequences(), _RedisSequences):
        return None
    config = settings.CHANNEL_LAYERS[DEFAULT_CHANNEL_LAYER].get("CONFIG", {})
    hosts = config.get("hosts") or []
    if len(hosts) != 1:
        return None
    address = hosts[0].get("address") if isinstance(hosts[0], dict) else hosts[0]
    if address != settings.REDIS_URL:
        return None
    return config.get("prefix", "asgi")


def group_channel(prefix: str, stream: str) -> str:
    """The pub/sub channel of a stream's group (channels_redis.pubsub: `{prefix}__group__{group}`)."""
    return f"{prefix}__group__{group_name(stream)}"


def _outgoing(layer, channel_prefix: str, events: list[Event], committed_at: float) -> list[Outgoing] | None:
    outgoing = []
    for event in events:
        head = _framing(layer).head(event.event_type)
        if head is None:
            return None
        tail = envelope_tail(committed_at=committed_at, data=event.data)
        for stream in event.streams:
            text = envelope_text(event_type=event.event_type, stream=stream, after_position=tail)
            outgoing.append(Outgoing(stream, group_channel(channel_prefix, stream), head, text))
    return outgoing


def _msgpack_str_header(length: int) -> bytes:
    """How msgpack frames a str of `length` bytes; the Lua script's `str_header` does the same."""
    if length < 32:
        return bytes([0xA0 | length])
    if length < 1 << 8:
        return b"\xd9" + length.to_bytes(1, "big")
    if length < 1 << 16:
        return b"\xda" + length.to_bytes(2, "big")
    return b"\xdb" + length.to_bytes(4, "big")


class _MessageFraming:
    """The channel layer's serialized message, split where its text begins.

    The layer serializes `layer_message(...)` with msgpack: a map whose last value is the text, so
    the bytes are a head (everything up to the text), the text's str header, then the text. Redis
    can only finish the text once it has numbered it, so it is given the head, made here by the
    layer's own serializer, and frames the text itself. Checked once per event type against the
    serializer with texts of every str size: a serializer that does not frame so (encryption, a
    random prefix, JSON) gets None, and the events go the slow way.
    """

    SAMPLES = ("", "a" * 31, "é" * 16, "a" * 255, "避難所" * 86, "a" * 65535, "a" * 65536)

    def __init__(self, layer):
        self._layer = layer
        self._heads: dict[str, bytes | None] = {}

    def head(self, event_type: str) -> bytes | None:
        if event_type not in self._heads:
            self._heads[event_type] = self._make_head(event_type)
        return self._heads[event_type]

    def _make_head(self, event_type: str) -> bytes | None:
        def serialized(text: str) -> bytes:
            return self._layer.serialize(layer_message(event_type=event_type, text=text))

        head = serialized("")[:-1]
        for text in self.SAMPLES:
            encoded = text.encode()
            if serialized(text) != head + _msgpack_str_header(len(encoded)) + encoded:
                logger.warning("The channel layer's serializer frames messages its own way: events go one by one")
                return None
        return head


_framings: "weakref.WeakKeyDictionary[object, _MessageFraming]" = weakref.WeakKeyDictionary()


def _framing(layer) -> _MessageFraming:
    if layer not in _framings:
        _framings[layer] = _MessageFraming(layer)
    return _framings[layer]


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
