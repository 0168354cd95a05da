"""Open sockets lose rights when their users do (in-memory channel layer, one process).

Each trigger (logout, deactivation, a role change, a shelter taken away) sends `user.rights_changed`
after commit; the user's sockets re-check and close (4401 signed out, 4403 forbidden) or carry on
with what the user may still see. Two real servers: tests/integration/test_sockets_lose_rights.py.
"""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from realtime.consumers import FORBIDDEN, SIGNED_OUT
from shelters import services
from shelters.models import Role, User
from tests.factories import EvacueeFactory
from tests.sockets import connect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def connect_with_session(path, client: Client):
    """Through the whole application, as a browser: the session cookie, the origin check."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"origin", b"http://127.0.0.1:8000"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive(communicator, timeout=2):
    return json.loads(await communicator.receive_from(timeout=timeout))


async def close_code(communicator, timeout=2):
    """The code the server closed the socket with; fails if a frame arrives first."""
    output = await communicator.receive_output(timeout=timeout)
    assert output["type"] == "websocket.close", f"expected a close, got {output}"
    return output["code"]


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


def deactivate(user_id):
    """As the admin does it: a save of the user with is_active off."""
    user = User.objects.get(pk=user_id)
    user.is_active = False
    user.save()


def needing_support(hq, shelter, name="支援 太郎"):
    person = EvacueeFactory(name=name)
    services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"support_needs": {"wheelchair": ""}})
    services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[person.pk], actor=hq)
    return person


def test_logging_out_closes_the_sockets_of_that_session_only(manager_a, shelter_a):
    browser, other_browser = logged_in_client(manager_a), logged_in_client(manager_a)

    async def body():
        mine = await connect_with_session(f"/ws/shelters/{shelter_a.pk}/", browser)
        other = await connect_with_session(f"/ws/shelters/{shelter_a.pk}/", other_browser)
        await receive(mine), await receive(other)
        response = await database_sync_to_async(browser.post)("/logout/")
        assert response.status_code == 302
        code = await close_code(mine)
        other_silent = await other.receive_nothing(timeout=0.5)
        await other.disconnect()
        return code, other_silent

    code, other_silent = run(body)
    assert code == SIGNED_OUT
    assert other_silent


def test_a_session_deleted_behind_the_sockets_back_is_noticed_at_the_next_check(manager_a, shelter_a, hq):
    browser = logged_in_client(manager_a)

    async def body():
        socket = await connect_with_session(f"/ws/shelters/{shelter_a.pk}/", browser)
        await receive(socket)
        await database_sync_to_async(browser.session.delete)()  # no logout signal at all
        await socket.send_to(text_data=json.dumps({"action": "resync"}))
        return await close_code(socket)

    assert run(body) == SIGNED_OUT


def test_deactivating_a_manager_closes_their_socket(manager_a, shelter_a):
    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        await receive(socket)
        await database_sync_to_async(deactivate)(manager_a.pk)
        return await close_code(socket)

    assert run(body) == SIGNED_OUT


def test_deactivating_a_signed_in_manager_closes_the_socket_of_their_session(manager_a, shelter_a):
    browser = logged_in_client(manager_a)

    async def body():
        socket = await connect_with_session(f"/ws/shelters/{shelter_a.pk}/", browser)
        await receive(socket)
        await database_sync_to_async(deactivate)(manager_a.pk)
        return await close_code(socket)

    assert run(body) == SIGNED_OUT


def test_taking_the_shelter_from_its_manager_closes_their_socket(manager_a, shelter_a):
    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        await receive(socket)
        await database_sync_to_async(lambda: User.objects.get(pk=manager_a.pk).managed_shelters.remove(shelter_a))()
        return await close_code(socket)

    assert run(body) == FORBIDDEN


def test_removing_a_manager_from_the_shelters_side_closes_their_socket(manager_a, shelter_a):
    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        await receive(socket)
        await database_sync_to_async(lambda: shelter_a.managers.clear())()
        return await close_code(socket)

    assert run(body) == FORBIDDEN


def test_a_manager_keeps_the_socket_of_a_shelter_they_still_manage(manager_a, shelter_a, shelter_b):
    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        await receive(socket)
        await database_sync_to_async(lambda: User.objects.get(pk=manager_a.pk).managed_shelters.remove(shelter_b))()
        silent = await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
        return silent

    assert run(body)


def test_hq_made_a_manager_of_nothing_loses_the_city_stream(hq):
    async def body():
        socket = await connect("/ws/city/", hq)
        await receive(socket)

        def demote():
            user = User.objects.get(pk=hq.pk)
            user.role = Role.MANAGER
            user.save()

        await database_sync_to_async(demote)()
        return await close_code(socket)

    assert run(body) == FORBIDDEN


def test_a_manager_made_an_official_keeps_the_figures_but_gets_a_snapshot_without_names(manager_a, shelter_a, hq):
    needing_support(hq, shelter_a)

    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        before = await receive(socket)

        def make_official():
            user = User.objects.get(pk=manager_a.pk)
            user.role = Role.OFFICIAL
            user.save()

        await database_sync_to_async(make_official)()
        after = await receive(socket)
        newcomer = await database_sync_to_async(EvacueeFactory)(name="新規 花子")
        await database_sync_to_async(services.evacuee_update)(
            evacuee_id=newcomer.pk, actor=hq, changes={"support_needs": {"dialysis": ""}}
        )
        await database_sync_to_async(services.stay_check_in)(
            shelter_id=shelter_a.pk, evacuee_ids=[newcomer.pk], actor=hq
        )
        later = []
        while not await socket.receive_nothing(timeout=1):
            later.append(await socket.receive_from())
        await socket.disconnect()
        return before, after, later

    before, after, later = run(body)
    assert [p["name"] for p in before["data"]["support_list"]] == ["支援 太郎"]
    assert after["type"] == "snapshot"
    assert (after["data"]["support_list"], after["data"]["follow_ups"]) == (None, None)
    assert [json.loads(text)["type"] for text in later] == ["shelter.updated"]
    assert all("花子" not in text and "太郎" not in text for text in later)


def test_a_socket_whose_rights_went_silently_sends_no_names_and_closes(manager_a, shelter_a, hq):
    """A change that sent no control event (a raw update) is caught before the next named list."""
    person = EvacueeFactory(name="支援 太郎")
    services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"support_needs": {"wheelchair": ""}})

    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        await receive(socket)
        await database_sync_to_async(User.objects.filter(pk=manager_a.pk).update)(is_active=False)
        await database_sync_to_async(services.stay_check_in)(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
        event = await receive(socket)
        return event, await close_code(socket)

    event, code = run(body)
    assert event["type"] == "shelter.updated"
    assert code == SIGNED_OUT


def test_a_role_and_shelters_changed_in_one_transaction_send_one_re_check(manager_a, shelter_a, shelter_b, hq, listen):
    control = listen("control")

    services.user_roles_update(user_id=manager_a.pk, role=Role.MANAGER, managed_shelter_ids=[shelter_b.pk], actor=hq)
    services.user_roles_update(user_id=manager_a.pk, role=Role.OFFICIAL, managed_shelter_ids=[], actor=hq)

    assert [event["data"] for event in control.heard()] == [
        {"user": manager_a.pk, "session": None},
        {"user": manager_a.pk, "session": None},
    ]
