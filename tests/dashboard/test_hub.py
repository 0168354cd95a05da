"""The per-process hub: one subscription per stream, events batched when many sockets listen."""

import asyncio
import json

from asgiref.sync import async_to_sync, sync_to_async

from dashboard import broadcast, hub


class Socket:
    """A stand-in for a connected dashboard: it records the frames the hub hands it."""

    def __init__(self):
        self.frames: list[str] = []

    async def deliver(self, frame, texts):
        self.frames.append(frame)


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


def test_a_burst_to_many_sockets_arrives_in_a_few_batches_with_every_event_in_order():
    async def body():
        sockets = [Socket() for _ in range(1000)]
        for socket in sockets:
            await hub.hub().join("test-many", socket)
        await sync_to_async(send_burst)("test-many", 1)
        await asyncio.sleep(0.01)
        await sync_to_async(send_burst)("test-many", 50)
        await asyncio.sleep(0.5)
        return sockets

    sockets = async_to_sync(body)()
    events = events_in(sockets[0].frames)
    seqs = [e["seq"] for e in events]
    assert len(events) == 51
    assert seqs == sorted(seqs) and len(set(seqs)) == 51
    assert len(sockets[0].frames) <= 5
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
