"""Redis restarted empty under a running server: the counters start a new epoch, and the channel
layer reconnects and subscribes again, so open sockets hear the events made after it.

Each module runs its own redis-server (never the machine's shared one).
"""

import asyncio
import json

import pytest
import websockets

from realtime import broadcast
from tests.system import PrivateRedis, Session

pytestmark = pytest.mark.integration


def test_a_counter_lost_with_redis_starts_again_at_one_under_a_new_epoch(tmp_path):
    redis_server = PrivateRedis(tmp_path)
    try:
        sequences = broadcast._RedisSequences(redis_server.url, "test")
        before = [sequences.next("city") for _ in range(3)]
        untouched = sequences.positions(["shelter.1"])["shelter.1"]

        redis_server.stop()
        redis_server.start()
        after = sequences.next("city")
    finally:
        redis_server.stop()

    assert [p.seq for p in before] == [1, 2, 3] and len({p.epoch for p in before}) == 1
    assert untouched.seq == 0 and untouched.epoch  # read before any event, it still has an epoch
    assert after.seq == 1
    assert after.epoch != before[0].epoch


async def frames_until(socket, wanted, timeout=10.0) -> list[dict]:
    """Every frame (batches opened) up to and including the first one `wanted(frame)` accepts."""
    heard = []

    async def read():
        while True:
            message = json.loads(await socket.recv())
            for frame in message["events"] if message["type"] == "batch" else [message]:
                heard.append(frame)
                if wanted(frame):
                    return heard

    return await asyncio.wait_for(read(), timeout)


def test_an_open_socket_hears_the_events_made_after_an_empty_restart_under_the_new_epoch(redis_and_system):
    redis_server, system = redis_and_system
    server = system.start_daphne()
    desk = Session(server, "hq")
    shelter = desk.api("GET", "/api/shelters/", params={"status": "open"}).json()["results"][0]["id"]
    people = desk.api("GET", "/api/evacuees/", params={"limit": 400}).json()["results"]
    newcomers = [p["id"] for p in people if p["current_stay"] is None][:2]

    def check_in(person):
        response = desk.api("POST", "/api/check-ins/", json={"shelter": shelter, "evacuees": [person]})
        assert response.status_code == 201, response.text

    async def watch():
        headers = {"Cookie": desk.cookie_header, "Origin": server}
        async with websockets.connect(server.replace("http", "ws") + "/ws/city/", additional_headers=headers) as socket:
            snapshot = json.loads(await socket.recv())
            await asyncio.to_thread(check_in, newcomers[0])
            await frames_until(socket, lambda frame: frame["type"] == "shelter.updated")
            await asyncio.to_thread(redis_server.stop)
            await asyncio.to_thread(redis_server.start)
            # The server's subscription is back: its heartbeat comes through Redis, in the new epoch.
            heartbeat = (await frames_until(socket, lambda frame: frame["epoch"] != snapshot["epoch"]))[-1]
            await asyncio.to_thread(check_in, newcomers[1])
            event = (await frames_until(socket, lambda frame: frame["type"] == "shelter.updated"))[-1]
            return snapshot, heartbeat, event

    snapshot, heartbeat, event = asyncio.run(watch())

    assert heartbeat["type"] == "heartbeat"
    assert heartbeat["epoch"] != snapshot["epoch"]
    assert (event["epoch"], event["seq"]) == (heartbeat["epoch"], heartbeat["seq"] + 1)
    assert [s["id"] for s in event["data"]["shelters"]] == [shelter]
