"""Scale-out the usual Django way: two servers sharing Redis and the database, each laid out as
`make run` lays it out (config/launcher.py): a Caddy in front, pages and the API on gunicorn's WSGI
workers, the sockets on daphne. A check-in written by one server's WSGI worker reaches a dashboard
whose socket the other server's daphne holds, only through Redis."""

import asyncio
import json

import pytest
import websockets

from tests.system import Session

pytestmark = pytest.mark.integration


async def next_message(socket, timeout=10):
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))


def test_a_check_in_served_by_one_server_reaches_a_dashboard_connected_to_the_other(system):
    server_a, server_b = system.start_site(), system.start_site()
    desk = Session(server_a, "manager")
    hq = Session(server_b, "hq")
    shelter = desk.api("GET", "/api/shelters/").json()["results"][0]
    # HQ lists people who stay nowhere; the manager finds one by their ID, as at the desk.
    person = next(
        p for p in hq.api("GET", "/api/evacuees/", params={"limit": 200}).json()["results"] if p["current_stay"] is None
    )

    async def watch_and_check_in():
        websocket_url = server_b.replace("http://", "ws://") + "/ws/city/"
        headers = {"Cookie": hq.cookie_header, "Origin": server_b}
        async with websockets.connect(websocket_url, additional_headers=headers) as socket:
            snapshot = await next_message(socket)
            before = next(s["occupancy"] for s in snapshot["data"]["shelters"] if s["id"] == shelter["id"])
            response = await asyncio.to_thread(
                desk.api,
                "POST",
                "/api/check-ins/",
                json={"shelter": shelter["id"], "evacuees": [person["id"]], "lookup": person["walk_in_id"]},
            )
            assert response.status_code == 201, response.text
            event = await next_message(socket)
            return snapshot, before, event

    snapshot, before, event = asyncio.run(watch_and_check_in())

    assert event["type"] == "shelter.updated"
    assert event["seq"] == snapshot["seq"] + 1
    assert [(s["id"], s["occupancy"]) for s in event["data"]["shelters"]] == [(shelter["id"], before + 1)]


def test_an_anonymous_socket_is_refused_by_the_real_server(system):
    server = system.start_site()

    async def connect():
        websocket_url = server.replace("http://", "ws://") + "/ws/city/"
        async with websockets.connect(websocket_url, additional_headers={"Origin": server}):
            pass

    with pytest.raises(websockets.exceptions.InvalidStatus) as refusal:
        asyncio.run(connect())
    assert refusal.value.response.status_code == 403
