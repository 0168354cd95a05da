"""One subscription per stream per server process, fanning events out to that process's sockets.

A wall of dashboards is hundreds of sockets on the same stream. Rather than every socket joining
the channel-layer group (one Redis delivery and one consumer wake-up per socket per event), each
process joins the group once, on a channel of its own, and hands each event to its local sockets.

Events are flushed on the next turn of the event loop. Whatever arrived meanwhile (a burst, or
events that queued while the loop was busy with a flush) goes out as one `batch` frame, so the
number of frames adapts to the load without a timer adding latency when the load is light.

A flush builds the frame once and writes its bytes to every daphne socket without leaving the
loop (realtime/wire.py); only sockets that cannot take it that way go through the ASGI send.

Every few seconds (settings.REALTIME_HEARTBEAT_SECONDS) one timer per process reads where each of
its streams is (epoch and last number, one Redis round trip for all) and publishes a heartbeat to
each stream's own channel, so it comes back through the same Redis subscription as the events and
reaches the sockets in order with them. A page that hears no heartbeat for a while says it is stale;
one that hears an epoch or a number it has not seen asks for a fresh snapshot. While Redis is gone
or frozen there is no heartbeat, which is the point: the pages say so. See docs/realtime.md.
"""

import asyncio
import json
import logging
import weakref
from collections import defaultdict

from channels.layers import get_channel_layer
from django.conf import settings

from realtime import broadcast
from realtime.wire import Frame

logger = logging.getLogger(__name__)

HEARTBEAT = "heartbeat"
HEARTBEAT_TIMEOUT = 2.0  # seconds: a heartbeat that cannot go out by then is skipped, not queued


def heartbeat_frame(stream: str, position: broadcast.Position) -> str:
    """The heartbeat a socket gets (catalogue.Heartbeat)."""
    message = {"type": HEARTBEAT, "stream": stream, "epoch": position.epoch, "seq": position.seq}
    return json.dumps(message, separators=(",", ":"))


class StreamFrame(Frame):
    """A frame with the types of the events it holds, read once per flush, not once per socket."""

    __slots__ = ("types",)

    def __init__(self, text: str, texts: list[str], types: frozenset[str]):
        super().__init__(text, texts)
        self.types = types


def batch_frame(texts: list[str]) -> str:
    if len(texts) == 1:
        return texts[0]
    return '{"type":"batch","events":[' + ",".join(texts) + "]}"


class StreamHub:
    def __init__(self):
        self.layer = get_channel_layer()
        self.subscribers: dict[str, set] = defaultdict(set)
        self.pumps: dict[str, asyncio.Task] = {}
        self.subscribed: dict[str, asyncio.Future] = {}
        self.buffers: dict[str, list[str]] = defaultdict(list)
        self.types: dict[str, set[str]] = defaultdict(set)
        self.flush_scheduled: set[str] = set()
        self.slow_deliveries: dict[str, asyncio.Future] = {}
        self.channels: dict[str, str] = {}  # stream -> the channel its pump receives on
        self.heartbeat: asyncio.Task | None = None
        self.heartbeat_failing = False

    async def join(self, stream: str, consumer) -> None:
        """Add a socket; returns once the process is subscribed, so its snapshot misses nothing."""
        self.subscribers[stream].add(consumer)
        if stream not in self.pumps:
            # Registered before any await, so sockets connecting at the same moment share one pump.
            self.subscribed[stream] = asyncio.get_running_loop().create_future()
            self.pumps[stream] = asyncio.ensure_future(self._pump(stream))
        if self.heartbeat is None:
            self.heartbeat = asyncio.ensure_future(self._beat_forever())
        await asyncio.shield(self.subscribed[stream])

    def leave(self, stream: str, consumer) -> None:
        self.subscribers[stream].discard(consumer)

    async def _pump(self, stream: str) -> None:
        subscribed = self.subscribed[stream]
        try:
            channel = await self.layer.new_channel()
            await self.layer.group_add(broadcast.group_name(stream), channel)
        except Exception as error:
            # Let the next socket try again; this one's connect fails and its client reconnects.
            del self.pumps[stream]
            subscribed.set_exception(error)
            return
        self.channels[stream] = channel
        subscribed.set_result(None)
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Channel layer receive failed for %s; retrying", stream)
                await asyncio.sleep(1)
                continue
            self.buffers[stream].append(message["text"])
            self.types[stream].add(message["event"])
            self._schedule_flush(stream)

    # --- Heartbeats ------------------------------------------------------------------------------

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(settings.REALTIME_HEARTBEAT_SECONDS)
            try:
                await asyncio.wait_for(self.beat(), HEARTBEAT_TIMEOUT)
            except Exception as error:
                self._beat_failed(error)
            else:
                self._beat_went_out()

    async def beat(self) -> None:
        """One heartbeat to each stream that has sockets here: where it is, through Redis."""
        streams = [stream for stream, sockets in self.subscribers.items() if sockets and stream in self.channels]
        if not streams:
            return
        positions = await asyncio.to_thread(broadcast.sequences().positions, streams)
        for stream in streams:
            text = heartbeat_frame(stream, positions[stream])
            await self.layer.send(self.channels[stream], broadcast.layer_message(event_type=HEARTBEAT, text=text))

    def _beat_failed(self, error: Exception) -> None:
        # Once per outage, not once per beat: the pages already say they are stale.
        if not self.heartbeat_failing:
            self.heartbeat_failing = True
            logger.warning("Live heartbeats stopped (%s): open dashboards will show stale", type(error).__name__)

    def _beat_went_out(self) -> None:
        if self.heartbeat_failing:
            self.heartbeat_failing = False
            logger.warning("Live heartbeats resumed: open dashboards load a fresh snapshot")

    # --- Flushing ---------------------------------------------------------------------------------

    def _schedule_flush(self, stream: str) -> None:
        if stream not in self.flush_scheduled:
            self.flush_scheduled.add(stream)
            asyncio.get_running_loop().call_soon(self._flush, stream)

    def _flush(self, stream: str) -> None:
        self.flush_scheduled.discard(stream)
        texts, self.buffers[stream] = self.buffers[stream], []
        types, self.types[stream] = self.types[stream], set()
        if not texts:
            return
        frame = StreamFrame(batch_frame(texts), texts, frozenset(types))
        slow = []
        for consumer in list(self.subscribers[stream]):
            try:
                if not consumer.deliver_now(frame):
                    slow.append(consumer)
            except Exception as error:
                logger.warning("Could not deliver to a socket on %s: %r", stream, error)
        if slow:
            previous = self.slow_deliveries.get(stream)
            self.slow_deliveries[stream] = asyncio.ensure_future(self._deliver_slowly(stream, frame, slow, previous))

    async def _deliver_slowly(self, stream: str, frame: Frame, consumers: list, previous) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # frames keep their order on the slow path too
        results = await asyncio.gather(*(c.deliver(frame) for c in consumers), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                logger.warning("Could not deliver to a socket on %s: %r", stream, result)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StreamHub]" = weakref.WeakKeyDictionary()


def hub() -> StreamHub:
    """The hub of the running event loop (a server has one; tests make a loop per test)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = StreamHub()
    return _hubs[loop]
