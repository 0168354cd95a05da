"""The dashboards' WebSocket streams with the in-memory channel layer: who may listen, and what they hear."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import Client

from common.errors import ApplicationError
from config.asgi import application
from notifications.services import notification_create
from realtime.routing import websocket_urlpatterns
from shelters import services
from tests.factories import EvacueeFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

router = URLRouter(websocket_urlpatterns)


async def connect(path, user):
    communicator = WebsocketCommunicator(router, path)
    communicator.scope["user"] = user if user is not None else AnonymousUser()
    connected, code = await communicator.connect()
    return communicator, connected, code


async def receive(communicator, timeout=2):
    return json.loads(await communicator.receive_from(timeout=timeout))


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


@pytest.mark.parametrize(
    ("persona", "path", "allowed"),
    [
        ("anonymous", "/ws/city/", False),
        ("hq", "/ws/city/", True),
        ("official", "/ws/city/", True),
        ("manager_a", "/ws/city/", False),
        ("anonymous", "shelter_a", False),
        ("hq", "shelter_a", True),
        ("official", "shelter_a", True),
        ("manager_a", "shelter_a", True),
        ("manager_b", "shelter_a", False),
    ],
)
def test_each_persona_may_or_may_not_subscribe_as_the_policy_says(
    persona, path, allowed, hq, official, manager_a, manager_b, shelter_a
):
    users = {"anonymous": None, "hq": hq, "official": official, "manager_a": manager_a, "manager_b": manager_b}
    path = f"/ws/shelters/{shelter_a.pk}/" if path == "shelter_a" else path

    async def body():
        communicator, connected, code = await connect(path, users[persona])
        if connected:
            assert (await receive(communicator))["type"] == "snapshot"
            await communicator.disconnect()
        else:
            assert code == 4403
        return connected

    assert run(body) is allowed


def test_a_check_in_reaches_the_city_stream_right_after_the_snapshot_in_sequence(hq, shelter_a):
    person = EvacueeFactory()

    async def body():
        communicator, _, _ = await connect("/ws/city/", hq)
        snapshot = await receive(communicator)
        await database_sync_to_async(services.stay_check_in)(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
        event = await receive(communicator)
        await communicator.disconnect()
        return snapshot, event

    snapshot, event = run(body)
    assert [s["occupancy"] for s in snapshot["data"]["shelters"] if s["id"] == shelter_a.pk] == [0]
    assert event["type"] == "shelter.updated"
    assert event["seq"] == snapshot["seq"] + 1
    assert event["committed_at"] > 0
    assert [(s["id"], s["occupancy"]) for s in event["data"]["shelters"]] == [(shelter_a.pk, 1)]


def test_an_official_hears_figures_but_never_a_name(official, hq, shelter_a):
    person = EvacueeFactory(name="秘密 花子", name_kana="ヒミツ ハナコ")
    services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"support_needs": {"wheelchair": ""}})

    async def body():
        city, _, _ = await connect("/ws/city/", official)
        shelter, _, _ = await connect(f"/ws/shelters/{shelter_a.pk}/", official)
        texts = [json.dumps(await receive(city)), json.dumps(await receive(shelter))]
        await database_sync_to_async(services.stay_check_in)(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
        texts += [json.dumps(await receive(city)), json.dumps(await receive(shelter))]
        await city.disconnect()
        await shelter.disconnect()
        return texts

    texts = run(body)
    assert all("秘密" not in text and "ヒミツ" not in text for text in texts)
    assert '"wheelchair": 1' in texts[-1]
    assert json.loads(texts[1])["data"]["support_list"] is None


def test_the_shelters_own_manager_gets_the_names_needing_support_after_a_check_in(manager_a, hq, shelter_a):
    person = EvacueeFactory(name="支援 太郎")
    services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"support_needs": {"dialysis": ""}})

    async def body():
        communicator, _, _ = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        snapshot = await receive(communicator)
        await database_sync_to_async(services.stay_check_in)(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
        messages = [await receive(communicator), await receive(communicator)]
        await communicator.disconnect()
        return snapshot, messages

    snapshot, messages = run(body)
    assert snapshot["data"]["support_list"] == []
    support_list = next(m for m in messages if m["type"] == "support_list")
    assert [(p["name"], p["needs"]) for p in support_list["data"]["support_list"]] == [("支援 太郎", ["dialysis"])]


def test_a_transaction_with_many_check_ins_sends_one_event_with_the_final_figures(hq, shelter_a):
    people = EvacueeFactory.create_batch(5)

    def five_check_ins_in_one_transaction():
        with transaction.atomic():
            for person in people:
                services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)

    async def body():
        communicator, _, _ = await connect("/ws/city/", hq)
        await receive(communicator)
        await database_sync_to_async(five_check_ins_in_one_transaction)()
        event = await receive(communicator)
        nothing_more = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return event, nothing_more

    event, nothing_more = run(body)
    assert [s["occupancy"] for s in event["data"]["shelters"]] == [5]
    assert nothing_more


def test_a_refused_check_in_sends_nothing_and_the_next_one_is_still_sent(hq, shelter_a, shelter_b):
    person = EvacueeFactory()
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
    newcomer = EvacueeFactory()

    def refused_then_accepted():
        with pytest.raises(ApplicationError):
            services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[newcomer.pk, person.pk], actor=hq)
        services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[newcomer.pk], actor=hq)

    async def body():
        communicator, _, _ = await connect("/ws/city/", hq)
        await receive(communicator)
        await database_sync_to_async(refused_then_accepted)()
        event = await receive(communicator)
        nothing_more = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return event, nothing_more

    event, nothing_more = run(body)
    assert [(s["id"], s["occupancy"]) for s in event["data"]["shelters"]] == [(shelter_b.pk, 1)]
    assert nothing_more


def test_asking_for_a_resync_brings_a_fresh_snapshot(hq, shelter_a):
    person = EvacueeFactory()

    def capacity_changed_behind_the_streams_back():
        # No service, so no event of its own: only a snapshot read afresh from the database shows it.
        type(shelter_a).objects.filter(pk=shelter_a.pk).update(capacity=77)

    def capacity(snapshot):
        return next(s["capacity"] for s in snapshot["data"]["shelters"] if s["id"] == shelter_a.pk)

    async def body():
        communicator, _, _ = await connect("/ws/city/", hq)
        first = await receive(communicator)
        await database_sync_to_async(capacity_changed_behind_the_streams_back)()
        # The stream moves on (a check-in elsewhere), as it does when a client sees a gap and asks.
        await database_sync_to_async(services.stay_check_in)(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
        event = await receive(communicator)
        await communicator.send_to(text_data=json.dumps({"action": "resync"}))
        second = await receive(communicator)
        await communicator.disconnect()
        return first, event, second

    first, event, second = run(body)
    assert first["type"] == second["type"] == "snapshot"
    assert second["seq"] == event["seq"] == first["seq"] + 1
    assert (capacity(first), capacity(second)) == (10, 77)


def test_a_notification_appears_on_its_shelters_stream_only(manager_a, manager_b, shelter_a, shelter_b):
    async def body():
        mine, _, _ = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        other, _, _ = await connect(f"/ws/shelters/{shelter_b.pk}/", manager_b)
        await receive(mine)
        await receive(other)
        await database_sync_to_async(notification_create)(
            shelter_id=shelter_a.pk, kind="supply", title="飲料水 2L × 48 本: 明日 10:00 到着予定"
        )
        event = await receive(mine)
        silent = await other.receive_nothing(timeout=0.3)
        await mine.disconnect()
        await other.disconnect()
        return event, silent

    event, silent = run(body)
    assert event["type"] == "notification.created"
    assert event["data"]["notification"]["title"].startswith("飲料水")
    assert silent


def session_headers(user, origin: bytes) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return [(b"host", b"127.0.0.1:8000"), (b"origin", origin), (b"cookie", cookie)]


@pytest.mark.parametrize(
    ("origin", "signed_in", "accepted"),
    [
        (b"http://127.0.0.1:8000", True, True),
        (b"http://evil.example", True, False),
        (b"http://127.0.0.1:8000", False, False),
    ],
)
def test_the_full_application_checks_the_origin_and_the_session(hq, origin, signed_in, accepted):
    headers = session_headers(hq, origin) if signed_in else [(b"host", b"127.0.0.1:8000"), (b"origin", origin)]

    async def body():
        communicator = WebsocketCommunicator(application, "/ws/city/", headers=headers)
        connected, _ = await communicator.connect()
        if connected:
            assert (await receive(communicator))["type"] == "snapshot"
            await communicator.disconnect()
        return connected

    assert run(body) is accepted


def test_the_city_stream_follows_a_replays_simulated_time(hq):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from shelters import events
    from shelters.models import ReplayRun

    def progress():
        ReplayRun.objects.create(
            name="nanao-2024",
            started_at=timezone.now(),
            simulated_at=datetime(2024, 1, 9, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
        )
        events.replay_progressed()

    async def body():
        communicator, _, _ = await connect("/ws/city/", hq)
        snapshot = await receive(communicator)
        await database_sync_to_async(progress)()
        event = await receive(communicator)
        await communicator.disconnect()
        return snapshot, event

    snapshot, event = run(body)
    assert snapshot["data"]["replay"] is None
    assert event["type"] == "replay.progress"
    assert event["data"]["replay"]["simulated_at"].startswith("2024-01-09T09:00")
    assert event["data"]["replay"]["finished"] is False
