"""Publishing through real Redis: one round trip for all the events of a commit (broadcast.send_many).

These tests run the production channel layer (channels_redis's pub/sub layer) against the suite's
Redis (`redis_url`: REDIS_URL when it answers, else a private redis-server), with a prefix of
their own so nothing else hears them. What arrives is read by the real per-process hub
(realtime/hub.py) on its real subscription, or by a plain Redis subscriber where the bytes matter.
"""

import asyncio
import json
import logging
import threading
import uuid
from typing import TypedDict

import pytest
import redis
import redis.asyncio.connection
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime import broadcast, catalogue, hub, outage
from shelters import events as shelter_events
from shelters import services
from tests.factories import EvacueeFactory
from tests.realtime.test_hub import Socket, events_in
from tests.system import free_port, wait_for


class Padded(TypedDict):
    n: int
    pad: str


PUBLISHED = catalogue.register("test.published", Padded, streams=("test-publish",))


@pytest.fixture
def redis_layer(redis_url, settings, monkeypatch):
    """The channel layer and the counters of production, on the suite's Redis under a fresh prefix."""
    prefix = f"test-publish-{uuid.uuid4().hex[:8]}"
    settings.REDIS_URL = redis_url
    settings.REDIS_PREFIX = prefix
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": redis_url}], "prefix": prefix},
        }
    }
    monkeypatch.setattr(broadcast, "_sequences", None)
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = client.keys(f"{prefix}:*")
    if keys:
        client.delete(*keys)
    client.close()


class RoundTrips:
    """Counts the commands (or pipelines) written to Redis by any client of this process, sync or
    async: one `send_packed_command` is one request, which waits for its answer."""

    def __init__(self, monkeypatch):
        self.sent: list[bytes] = []
        for connection_class in (redis.connection.AbstractConnection, redis.asyncio.connection.AbstractConnection):
            self._count(monkeypatch, connection_class)

    def _count(self, monkeypatch, connection_class):
        original = connection_class.send_packed_command
        sent = self.sent

        def first_bytes(command) -> bytes:
            return (command if isinstance(command, bytes | str) else b"".join(command[:2]))[:60]

        if asyncio.iscoroutinefunction(original):

            async def counted(self, command, *args, **kwargs):
                sent.append(first_bytes(command))
                return await original(self, command, *args, **kwargs)

        else:

            def counted(self, command, *args, **kwargs):
                sent.append(first_bytes(command))
                return original(self, command, *args, **kwargs)

        monkeypatch.setattr(connection_class, "send_packed_command", counted)


def listen(streams: list[str], act, *, until):
    """Join the hub on `streams`, run `act()` in a thread, and return what each stream's socket got
    once `until(frames by stream)` holds (or after 5 s)."""

    async def body():
        sockets = {stream: Socket() for stream in streams}
        for stream, socket in sockets.items():
            await hub.hub().join(stream, socket)
        result = await asyncio.to_thread(act)
        for _ in range(500):
            if until({stream: events_in(socket.frames) for stream, socket in sockets.items()}):
                break
            await asyncio.sleep(0.01)
        for stream, socket in sockets.items():
            hub.hub().leave(stream, socket)
        return result, {stream: events_in(socket.frames) for stream, socket in sockets.items()}

    return async_to_sync(body)()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_check_in_publishes_all_its_events_in_one_round_trip_and_each_stream_hears_the_next_number(
    redis_layer, hq, shelter_a, monkeypatch
):
    first, second = EvacueeFactory(), EvacueeFactory()
    shelter_stream = broadcast.shelter_stream(shelter_a.pk)
    # The first check-in loads the script into Redis (EVALSHA, NOSCRIPT, SCRIPT LOAD, EVALSHA).
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[first.pk], actor=hq)
    before = broadcast.sequences().positions(["city", shelter_stream])
    round_trips = RoundTrips(monkeypatch)

    def check_in():  # once the hub has subscribed
        already = len(round_trips.sent)
        services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[second.pk], actor=hq)
        return round_trips.sent[already:]

    sent, heard = listen(
        ["city", shelter_stream], check_in, until=lambda heard: all(len(events) == 1 for events in heard.values())
    )

    assert len(sent) == 1, sent
    assert sent[0].startswith(b"*") and b"EVALSHA" in sent[0]
    for stream in ("city", shelter_stream):
        (event,) = heard[stream]
        catalogue.check_frame("envelope", json.dumps(event))
        assert (event["type"], event["stream"]) == ("shelter.updated", stream)
        assert (event["epoch"], event["seq"]) == (before[stream].epoch, before[stream].seq + 1)
        assert [state["occupancy"] for state in event["data"]["shelters"]] == [2]
    assert heard["city"][0]["committed_at"] == heard[shelter_stream][0]["committed_at"]


def test_several_events_to_several_streams_go_in_one_round_trip_numbered_in_order(redis_layer, monkeypatch):
    broadcast.send(event_type=PUBLISHED, streams=["test-publish.a"], data={"n": 0, "pad": ""})  # loads the script
    round_trips = RoundTrips(monkeypatch)

    def publish():
        already = len(round_trips.sent)
        broadcast.send_many(
            [
                (PUBLISHED, ["test-publish.a", "test-publish.b"], {"n": 1, "pad": "避難"}),
                (PUBLISHED, ["test-publish.a"], {"n": 2, "pad": ""}),
                broadcast.Event(PUBLISHED, ["test-publish.b"], {"n": 3, "pad": ""}),
            ],
            committed_at=1234.5,
        )
        return len(round_trips.sent) - already

    sent, heard = listen(
        ["test-publish.a", "test-publish.b"],
        publish,
        until=lambda heard: len(heard["test-publish.a"]) == 2 and len(heard["test-publish.b"]) == 2,
    )

    assert sent == 1
    assert [(e["seq"], e["data"]["n"]) for e in heard["test-publish.a"]] == [(2, 1), (3, 2)]
    assert [(e["seq"], e["data"]["n"]) for e in heard["test-publish.b"]] == [(1, 1), (2, 3)]
    assert heard["test-publish.a"][0]["data"]["pad"] == "避難"
    assert {e["committed_at"] for events in heard.values() for e in events} == {1234.5}


def test_a_streams_numbers_arrive_in_order_when_many_threads_publish_at_once(redis_layer):
    stream, threads, each = "test-publish.order", 4, 25

    def publish_from_threads():
        def publish(thread):
            for number in range(each):
                broadcast.send_many([(PUBLISHED, [stream], {"n": thread * each + number, "pad": ""})])

        workers = [threading.Thread(target=publish, args=(thread,)) for thread in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    _, heard = listen([stream], publish_from_threads, until=lambda heard: len(heard[stream]) == threads * each)

    # Numbered and published in one script, a number can never overtake the one before it.
    assert [event["seq"] for event in heard[stream]] == list(range(1, threads * each + 1))
    assert len({event["epoch"] for event in heard[stream]}) == 1
    assert sorted(event["data"]["n"] for event in heard[stream]) == list(range(threads * each))


@pytest.mark.parametrize("pad", ["a", "é"], ids=["ascii", "two-byte"])
def test_the_bytes_published_are_the_channel_layers_own_message_at_every_size(redis_layer, redis_url, pad):
    """msgpack frames a str by its size in bytes (str8 up to 255, str16 up to 65,535, then str32): the
    script's framing must match the serializer's on each side of each boundary."""
    stream = "test-publish.sizes"
    layer = get_channel_layer()
    channel = broadcast.group_channel(redis_layer, stream)
    subscriber = redis.Redis.from_url(redis_url).pubsub()
    subscriber.subscribe(channel)
    assert subscriber.get_message(timeout=2)["type"] == "subscribe"
    pads = [*range(140, 300), *range(65_380, 65_560)] if pad == "a" else [*range(70, 150), *range(32_690, 32_780)]
    try:
        for size in pads:
            broadcast.send_many([(PUBLISHED, [stream], {"n": size, "pad": pad * size})], committed_at=1.0)
            published = subscriber.get_message(timeout=2)["data"]
            text = layer.deserialize(published)["text"]
            event = json.loads(text)
            expected = broadcast.envelope(
                event_type=PUBLISHED,
                stream=stream,
                position=broadcast.Position(event["epoch"], event["seq"]),
                committed_at=1.0,
                data={"n": size, "pad": pad * size},
            )
            assert published == layer.serialize(broadcast.layer_message(event_type=PUBLISHED, text=expected)), size
    finally:
        subscriber.close()
    assert len(expected.encode()) > 65_535  # the last one went as a str32


def test_a_counter_lost_with_redis_starts_again_at_one_under_a_new_epoch(redis_layer, redis_url):
    stream = "test-publish.lost"

    def publish_lose_publish():
        for number in range(3):
            broadcast.send_many([(PUBLISHED, [stream], {"n": number, "pad": ""})])
        redis.Redis.from_url(redis_url).delete(f"{redis_layer}:stream:{stream}")  # as a Redis restarted empty
        broadcast.send_many([(PUBLISHED, [stream], {"n": 3, "pad": ""})])

    _, heard = listen([stream], publish_lose_publish, until=lambda heard: len(heard[stream]) == 4)

    old, new = heard[stream][:3], heard[stream][3]
    assert [event["seq"] for event in old] == [1, 2, 3] and len({event["epoch"] for event in old}) == 1
    assert new["seq"] == 1 and new["epoch"] != old[0]["epoch"]
    assert broadcast.stream_position(stream) == broadcast.Position(new["epoch"], 1)  # what heartbeats say


def test_while_redis_is_out_events_are_dropped_at_once_counted_logged_once_and_renewed_after(
    redis_layer, redis_url, settings, monkeypatch, caplog
):
    """The one-round-trip path keeps the outage breaker: the first publish fails on Redis and opens
    it, the next is dropped without touching Redis, one line is logged, and once Redis answers the
    streams of the dropped events get a new epoch, so every page on them loads a fresh snapshot."""
    live = broadcast._RedisSequences(redis_url, redis_layer)
    streams = ["test-publish.out", "test-publish.out2"]
    epochs_before = live.positions(streams)
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: every command fails
    settings.REDIS_URL = dead
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": dead}], "prefix": redis_layer},
        }
    }
    monkeypatch.setattr(broadcast, "_sequences", broadcast._RedisSequences(dead, redis_layer))
    answers = threading.Event()
    monkeypatch.setattr(outage, "PROBE_SECONDS", 0.01)
    monkeypatch.setattr(outage.EVENTS, "probe", answers.is_set)
    dropped = outage.EVENTS.dropped
    round_trips = RoundTrips(monkeypatch)

    try:
        with caplog.at_level(logging.WARNING, logger="realtime.outage"):
            broadcast.send_many([(PUBLISHED, streams[:1], {"n": 1, "pad": ""})])
            attempts = len(round_trips.sent)
            for number in range(50):
                broadcast.send_many([(PUBLISHED, streams, {"n": number, "pad": ""})])
            assert outage.EVENTS.is_open
            assert len(round_trips.sent) == attempts  # nothing more reached for Redis
            assert outage.EVENTS.dropped == dropped + 51  # one per publish: all of a commit's events
            assert broadcast._streams_dropped >= set(streams)

            monkeypatch.setattr(broadcast, "_sequences", live)  # Redis answers again, its counters as they were
            answers.set()
            assert wait_for(lambda: not outage.EVENTS.is_open, timeout=5)
    finally:
        answers.set()  # never leave the breaker open for the next test

    lines = [record.getMessage() for record in caplog.records if "for events" in record.getMessage()]
    assert [line.split(" (")[0].split(" after")[0] for line in lines] == [
        "Redis unavailable for events",
        "Redis answers again for events",
    ]
    assert lines[1].endswith(f"; {dropped + 51} dropped in this process so far")
    after = live.positions(streams)
    for stream in streams:
        assert after[stream].epoch != epochs_before[stream].epoch
        assert after[stream].seq == epochs_before[stream].seq  # renewed, not counted
    assert not broadcast._streams_dropped


def test_the_in_memory_layer_of_unit_tests_still_numbers_each_stream_from_its_local_counters():
    counters = broadcast.sequences()
    assert isinstance(counters, broadcast._LocalSequences)
    before = counters.positions(["test-publish.local"])["test-publish.local"]

    broadcast.send_many([(PUBLISHED, ["test-publish.local"], {"n": 1, "pad": ""})] * 2)

    assert counters.positions(["test-publish.local"])["test-publish.local"].seq == before.seq + 2


def test_an_event_that_breaks_its_schema_is_refused_before_anything_is_sent(redis_layer, monkeypatch):
    round_trips = RoundTrips(monkeypatch)

    with pytest.raises(catalogue.InvalidEvent):
        broadcast.send_many(
            [(PUBLISHED, ["test-publish.a"], {"n": 1, "pad": ""}), (PUBLISHED, ["test-publish.a"], {"n": "x"})]
        )

    assert round_trips.sent == []
    catalogue.violations.clear()  # expected here; tests/conftest.py fails any other test with one


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_publish_states_sends_the_states_it_is_given_without_reading_the_shelters(
    redis_layer, shelter_a, shelter_b, django_assert_num_queries
):
    from shelters.selectors import shelter_states

    states = shelter_states(shelter_ids={shelter_a.pk, shelter_b.pk})
    streams = ["city", *(broadcast.shelter_stream(state["id"]) for state in states)]

    def publish():
        with django_assert_num_queries(0):
            shelter_events.publish_states(states, committed_at=99.0)

    _, heard = listen(streams, publish, until=lambda heard: all(heard.values()))

    assert [state["id"] for state in heard["city"][0]["data"]["shelters"]] == [state["id"] for state in states]
    for state in states:
        assert heard[broadcast.shelter_stream(state["id"])][0]["data"] == {"shelters": [json.loads(json.dumps(state))]}


def test_a_serializer_redis_cannot_finish_sends_each_event_the_two_round_trip_way(redis_layer, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": settings.REDIS_URL}],
                "prefix": redis_layer,
                "serializer_format": "json",
            },
        }
    }
    stream = "test-publish.json"

    _, heard = listen(
        [stream],
        lambda: broadcast.send_many([(PUBLISHED, [stream], {"n": n, "pad": ""}) for n in range(3)]),
        until=lambda heard: len(heard[stream]) == 3,
    )

    assert [event["seq"] for event in heard[stream]] == [1, 2, 3]
    assert broadcast._framing(get_channel_layer()).head(PUBLISHED) is None
