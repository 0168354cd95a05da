"""The per-process hub: one subscription per stream, events that arrive together sent as one frame."""

import asyncio
import json
from typing import TypedDict

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from realtime import broadcast, catalogue, hub


class Numbered(TypedDict):
    n: int


# The hub carries any stream; these tests use streams of their own, named test-*.
TEST_STREAMS = (
    "test-few",
    "test-leave",
    "test-left",
    "test-many",
    "test-mixed",
    "test-order",
    "test-slow",
    "test-together",
)
catalogue.register("test.event", Numbered, streams=TEST_STREAMS)


class Socket:
    """A stand-in for a connected dashboard: it records the frames the hub hands it."""

    def __init__(self):
        self.frames: list[str] = []

    def deliver_now(self, frame):
        self.frames.append(frame.text)
        return True


class AsgiOnlySocket(Socket):
    """A socket the hub cannot write to directly (not daphne's): it must be awaited."""

    def deliver_now(self, frame):
        return False

    async def deliver(self, frame):
        await asyncio.sleep(0)
        self.frames.append(frame.text)


def events_in(frames):
    events = []
    for frame in frames:
        message = json.loads(frame)
        events.extend(message["events"] if message["type"] == "batch" else [message])
    return events


def send_burst(stream, count):
    for number in range(count):
        broadcast.send(event_type="test.event", streams=[stream], data={"n": number})


def test_few_sockets_get_each_event_in_its_own_frame():
    async def body():
        sockets = [Socket() for _ in range(5)]
        for socket in sockets:
            await hub.hub().join("test-few", socket)
        for _ in range(3):
            await sync_to_async(send_burst)("test-few", 1)
            await asyncio.sleep(0.05)
        return sockets

    sockets = async_to_sync(body)()
    assert all(len(s.frames) == 3 for s in sockets)
    assert [e["data"] for e in events_in(sockets[0].frames)] == [{"n": 0}, {"n": 0}, {"n": 0}]


def test_events_that_arrive_together_reach_many_sockets_in_one_frame_in_order():
    async def body():
        sockets = [Socket() for _ in range(1000)]
        for socket in sockets:
            await hub.hub().join("test-many", socket)
        await sync_to_async(send_burst)("test-many", 1)
        await asyncio.sleep(0.01)
        # A burst that reaches the hub's channel before its loop gets a turn, as when the loop is
        # busy flushing: the in-memory layer's group_send yields per event, so send to the channel.
        layer = get_channel_layer()
        [hub_channel] = layer.groups[broadcast.group_name("test-many")]
        for number in range(50):
            position = broadcast.Position("test-epoch", number + 2)
            text = broadcast.envelope(
                event_type="test.event", stream="test-many", position=position, committed_at=0, data={"n": number}
            )
            await layer.send(hub_channel, broadcast.layer_message(event_type="test.event", text=text))
        await asyncio.sleep(0.1)
        return sockets

    sockets = async_to_sync(body)()
    events = events_in(sockets[0].frames)
    seqs = [e["seq"] for e in events]
    assert len(events) == 51
    assert seqs == sorted(seqs) and len(set(seqs)) == 51
    assert len(sockets[0].frames) == 2
    assert all(s.frames == sockets[0].frames for s in sockets)


def test_a_socket_that_left_gets_nothing_more():
    async def body():
        staying, leaving = Socket(), Socket()
        await hub.hub().join("test-leave", staying)
        await hub.hub().join("test-leave", leaving)
        hub.hub().leave("test-leave", leaving)
        await sync_to_async(send_burst)("test-leave", 1)
        await asyncio.sleep(0.05)
        return staying, leaving

    staying, leaving = async_to_sync(body)()
    assert len(staying.frames) == 1 and leaving.frames == []


def test_sockets_joining_at_the_same_moment_share_one_subscription():
    async def body():
        sockets = [Socket() for _ in range(20)]
        await asyncio.gather(*(hub.hub().join("test-together", socket) for socket in sockets))
        pumps = len([s for s in hub.hub().pumps if s == "test-together"])
        await sync_to_async(send_burst)("test-together", 1)
        await asyncio.sleep(0.1)
        return sockets, pumps

    sockets, pumps = async_to_sync(body)()
    assert pumps == 1
    assert all(len(events_in(s.frames)) == 1 for s in sockets)


def test_sockets_that_need_the_asgi_send_get_the_same_frames_as_the_others():
    async def body():
        fast, slow = Socket(), AsgiOnlySocket()
        await hub.hub().join("test-mixed", fast)
        await hub.hub().join("test-mixed", slow)
        for _ in range(3):
            await sync_to_async(send_burst)("test-mixed", 1)
            await asyncio.sleep(0.05)
        return fast, slow

    fast, slow = async_to_sync(body)()
    assert len(fast.frames) == 3
    assert slow.frames == fast.frames
