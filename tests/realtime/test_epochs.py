"""Streams carry an epoch beside their numbers, and every socket hears a heartbeat saying where they are.

An epoch names a stream's counter: when the counter is lost (Redis restarted empty; in unit tests, a
new process), numbers start again at 1 under another epoch, and a client that sees it loads a fresh
snapshot instead of dropping the new, lower numbers as old ones. The Redis counter itself, restarted
for real, is tested in tests/integration/test_redis_restart.py.
"""

import asyncio
import json
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.test import override_settings

from realtime import broadcast, catalogue, hub, outage
from shelters import services
from tests.factories import EvacueeFactory
from tests.realtime.test_hub import Socket
from tests.sockets import connect
from tests.system import free_port, wait_for


def test_numbers_of_one_counter_share_its_epoch_and_count_up_from_one():
    sequences = broadcast._LocalSequences()

    first, second = sequences.next("city"), sequences.next("city")

    assert first == broadcast.Position(first.epoch, 1)
    assert second == broadcast.Position(first.epoch, 2)
    assert sequences.positions(["city", "shelter.1"]) == {
        "city": broadcast.Position(first.epoch, 2),
        "shelter.1": broadcast.Position(first.epoch, 0),
    }


def test_a_lost_counter_starts_again_at_one_under_another_epoch():
    before = broadcast._LocalSequences()
    for _ in range(5):
        old = before.next("city")

    new = broadcast._LocalSequences().next("city")  # the counter of a process started afresh

    assert new.seq == 1 < old.seq
    assert new.epoch != old.epoch


def test_streams_whose_events_were_dropped_get_another_epoch_once_redis_answers(monkeypatch):
    # The increment fails for real (nothing listens on that port): the event is dropped numberless.
    monkeypatch.setattr(broadcast, "_sequences", broadcast._RedisSequences(f"redis://127.0.0.1:{free_port()}/0", "t"))
    answers = threading.Event()
    monkeypatch.setattr(outage, "PROBE_SECONDS", 0.01)
    monkeypatch.setattr(outage.EVENTS, "probe", answers.is_set)
    broadcast.send(event_type="shelter.updated", streams=["city"], data={"shelters": []})
    assert outage.EVENTS.is_open
    counters = broadcast._LocalSequences()  # Redis answers again, with the counters as they were
    monkeypatch.setattr(broadcast, "_sequences", counters)
    before = counters.positions(["city", "shelter.1"])

    answers.set()
    assert wait_for(lambda: not outage.EVENTS.is_open, timeout=5)

    after = counters.positions(["city", "shelter.1"])
    assert after["city"].epoch != before["city"].epoch
    assert after["shelter.1"] == before["shelter.1"]  # nothing of it was dropped
    assert not broadcast._streams_dropped


def test_an_envelope_carries_its_epoch_and_matches_the_catalogues_schema():
    text = broadcast.envelope(
        event_type="shelter.updated",
        stream="city",
        position=broadcast.Position("e1", 7),
        committed_at=1.5,
        data={"shelters": []},
    )

    catalogue.check_frame("envelope", text)
    assert json.loads(text)["epoch"] == "e1"


@pytest.mark.parametrize(
    ("kind", "frame"),
    [
        ("envelope", {"type": "x", "stream": "city", "seq": 1, "committed_at": 0, "data": {}}),
        ("snapshot", {"type": "snapshot", "stream": "city", "epoch": "e", "seq": 1, "data": {}}),
        ("heartbeat", {"type": "heartbeat", "stream": "city", "epoch": "e", "seq": "1"}),
    ],
)
def test_a_frame_without_its_epoch_heartbeat_pace_or_a_number_is_refused(kind, frame):
    with pytest.raises(catalogue.InvalidEvent):
        catalogue.check_frame(kind, json.dumps(frame))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_snapshot_and_the_events_after_it_carry_the_same_epoch(hq, shelter_a):
    person = EvacueeFactory()

    async def body():
        socket = await connect("/ws/city/", hq)
        snapshot = await socket.receive_from(timeout=3)
        await database_sync_to_async(services.stay_check_in)(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
        event = await socket.receive_from(timeout=3)
        await socket.disconnect()
        return snapshot, event

    snapshot, event = async_to_sync(body)()
    catalogue.check_frame("snapshot", snapshot)
    catalogue.check_frame("envelope", event)
    snapshot, event = json.loads(snapshot), json.loads(event)
    assert snapshot["epoch"] == event["epoch"] == broadcast.stream_position("city").epoch
    assert event["seq"] == snapshot["seq"] + 1
    assert snapshot["heartbeat_seconds"] == 3600  # the test settings' pace


@override_settings(REALTIME_HEARTBEAT_SECONDS=0.05)
def test_each_socket_hears_a_heartbeat_saying_where_its_stream_is():
    async def body():
        socket = Socket()
        await hub.hub().join("test-heartbeat", socket)
        await asyncio.sleep(0.2)
        before = list(socket.frames)
        position = await asyncio.to_thread(broadcast.sequences().next, "test-heartbeat")
        await asyncio.sleep(0.2)
        hub.hub().leave("test-heartbeat", socket)
        return before, socket.frames[len(before) :], position

    before, after, position = async_to_sync(body)()
    beats = [json.loads(text) for text in before + after]
    assert {beat["type"] for beat in beats} == {"heartbeat"}
    for text in before + after:
        catalogue.check_frame("heartbeat", text)
    assert json.loads(after[-1]) == {
        "type": "heartbeat",
        "stream": "test-heartbeat",
        "epoch": position.epoch,
        "seq": position.seq,
    }


def test_every_frame_schema_names_the_epoch_and_the_number():
    for schema in catalogue.FRAMES.values():
        assert {"epoch", "seq", "stream", "type"} <= set(schema.__annotations__)


def test_a_heartbeat_pace_below_one_second_stops_the_server_at_start_up():
    from realtime.apps import heartbeat_pace_check

    with override_settings(REALTIME_HEARTBEAT_SECONDS=0):
        assert [error.id for error in heartbeat_pace_check(None)] == ["realtime.E001"]
    assert heartbeat_pace_check(None) == []
