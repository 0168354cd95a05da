"""One shared half of a snapshot per stream position per process (realtime/snapshots.py), the user's
own half built per socket (in-memory channel layer, one process)."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from realtime import snapshots
from realtime.snapshots import shared_snapshots
from shelters import services
from tests.factories import EvacueeFactory
from tests.sockets import connect, receive

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


def occupancy(snapshot, shelter):
    return next(s["occupancy"] for s in snapshot["data"]["shelters"] if s["id"] == shelter.pk)


async def connect_many(path, users):
    sockets = await asyncio.gather(*(connect(path, user) for user in users))
    firsts = await asyncio.gather(*(receive(socket) for socket in sockets))
    return sockets, firsts


async def disconnect_all(sockets):
    await asyncio.gather(*(socket.disconnect() for socket in sockets))


def test_sockets_connecting_at_the_same_moment_build_the_city_snapshot_once(hq, official, shelter_a):
    async def body():
        sockets, firsts = await connect_many("/ws/city/", [hq, official] * 10)
        builds = shared_snapshots().builds
        await disconnect_all(sockets)
        return builds, firsts

    builds, firsts = run(body)
    assert builds == 1
    # HQ and officials get the same data: the city stream holds nothing cut per user.
    assert len({json.dumps(first["data"], sort_keys=True) for first in firsts}) == 1
    assert {first["seq"] for first in firsts} == {firsts[0]["seq"]}
    assert {"shelters", "replay", "surveys"} <= firsts[0]["data"].keys()


def test_a_resync_at_the_same_position_reuses_the_build(hq, shelter_a):
    async def body():
        socket = await connect("/ws/city/", hq)
        first = await receive(socket)
        await socket.send_to(text_data=json.dumps({"action": "resync"}))
        second = await receive(socket)
        builds = shared_snapshots().builds
        await socket.disconnect()
        return builds, first, second

    builds, first, second = run(body)
    assert builds == 1
    assert first == second


def test_a_new_event_makes_the_next_socket_build_afresh(hq, official, shelter_a):
    person = EvacueeFactory()

    async def body():
        early = await connect("/ws/city/", hq)
        before = await receive(early)
        await database_sync_to_async(services.stay_check_in)(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
        event = await receive(early)
        late = await connect("/ws/city/", official)
        after = await receive(late)
        builds = shared_snapshots().builds
        await disconnect_all([early, late])
        return builds, before, event, after

    builds, before, event, after = run(body)
    assert builds == 2
    assert (occupancy(before, shelter_a), occupancy(after, shelter_a)) == (0, 1)
    assert after["seq"] == event["seq"] == before["seq"] + 1


def test_a_change_without_an_event_shows_once_the_shared_build_is_too_old(hq, shelter_a, monkeypatch):
    """Some figures change with no event (today's survey summary at midnight): a build is reused for
    MAX_AGE seconds at most, here none."""
    monkeypatch.setattr(snapshots, "MAX_AGE", 0)

    def capacity_changed_behind_the_streams_back():
        type(shelter_a).objects.filter(pk=shelter_a.pk).update(capacity=77)

    async def body():
        first_socket = await connect("/ws/city/", hq)
        first = await receive(first_socket)
        await database_sync_to_async(capacity_changed_behind_the_streams_back)()
        second_socket = await connect("/ws/city/", hq)
        second = await receive(second_socket)
        await disconnect_all([first_socket, second_socket])
        return first, second

    first, second = run(body)
    assert first["seq"] == second["seq"]
    capacities = [
        next(s["capacity"] for s in x["data"]["shelters"] if s["id"] == shelter_a.pk) for x in (first, second)
    ]
    assert capacities == [10, 77]


def test_the_names_on_a_shelters_stream_stay_with_the_users_who_may_see_them(manager_a, official, hq, shelter_a):
    person = EvacueeFactory(name="支援 太郎")
    services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"support_needs": {"dialysis": ""}})
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)

    async def body():
        sockets, firsts = await connect_many(f"/ws/shelters/{shelter_a.pk}/", [official, manager_a, official, hq])
        builds = shared_snapshots().builds
        await disconnect_all(sockets)
        return builds, firsts

    builds, (official_first, manager_first, official_again, hq_first) = run(body)
    assert builds == 1  # the shelter's figures and notifications, once for the four
    assert [p["name"] for p in manager_first["data"]["support_list"]] == ["支援 太郎"]
    assert official_first["data"]["support_list"] is None and official_again["data"]["support_list"] is None
    assert "支援" not in json.dumps(official_first, ensure_ascii=False)
    for first in (official_first, manager_first, official_again, hq_first):
        assert occupancy(first, shelter_a) == 1
        assert first["data"]["shelters"] == manager_first["data"]["shelters"]


def test_a_socket_refused_the_stream_gets_no_snapshot_and_starts_no_build(manager_a, shelter_a):
    from channels.testing import WebsocketCommunicator

    from tests.sockets import router

    async def body():
        communicator = WebsocketCommunicator(router, "/ws/city/")
        communicator.scope["user"] = manager_a
        connected, code = await communicator.connect()
        return connected, code, shared_snapshots().builds

    assert run(body) == (False, 4403, 0)
