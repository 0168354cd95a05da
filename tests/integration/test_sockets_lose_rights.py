"""A manager's open sockets close when the manager loses rights, whichever process the change comes
through: two real daphne processes sharing Redis and the database (issue 9, part 2).

Each test makes its own manager of the demo manager's first shelter (which has residents needing
support, so the socket shows names), opens sockets, changes the manager's rights through another
process, and waits for the close. The time from the start of the change to the close is printed
(`pytest -s`; ~0.03-0.05 s here); the mechanism has no timer (realtime/consumers.py): it is the
time the change, the control event through Redis and one re-check take.
"""

import asyncio
import json
import secrets
import time

import pytest
import websockets

from realtime.consumers import FORBIDDEN, SIGNED_OUT
from tests.system import DEMO_PASSWORD, Session

pytestmark = pytest.mark.integration

CLOSE_WAIT = 10  # seconds: only a bound for a broken build, not a measure


def make_manager(system) -> tuple[str, int]:
    """A new manager of the demo manager's first shelter: (username, shelter id)."""
    username = f"manager-{secrets.token_hex(3)}"
    code = f"""
from shelters.models import Role, Shelter, User
shelter = Shelter.objects.filter(managers__username="manager").order_by("code").first()
user = User.objects.create_user({username!r}, password={DEMO_PASSWORD!r}, role=Role.MANAGER)
user.managed_shelters.add(shelter)
print("shelter", shelter.pk)
"""
    output = system.manage("shell", "-c", code)
    shelter_id = int(next(line for line in output.splitlines() if line.startswith("shelter ")).split()[1])
    return username, shelter_id


def change_began_at(system, statements: str) -> float:
    """Run `statements` (autocommit) in a manage.py process of its own; the wall-clock time they began.

    Autocommit sends the control event inside the save, so the time after it would be too late.
    """
    script = f"import time\nfrom shelters.models import User\nbegan = time.time()\n{statements}\nprint('began', began)"
    output = system.manage("shell", "-c", script)
    return float(next(line for line in output.splitlines() if line.startswith("began ")).split()[1])


async def open_socket(server: str, session: Session, shelter_id: int):
    url = server.replace("http://", "ws://") + f"/ws/shelters/{shelter_id}/"
    socket = await websockets.connect(url, additional_headers={"Cookie": session.cookie_header, "Origin": server})
    snapshot = json.loads(await asyncio.wait_for(socket.recv(), CLOSE_WAIT))
    assert snapshot["type"] == "snapshot"
    return socket, snapshot


async def frames_until_closed(socket) -> tuple[list[str], int, float]:
    """Every frame until the server closes the socket, the close code, and when it closed."""
    frames = []
    try:
        while True:
            frames.append(await asyncio.wait_for(socket.recv(), CLOSE_WAIT))
    except websockets.ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None, time.time()


def assert_no_names_after(snapshot: dict, frames: list[str]) -> None:
    names = [person["name"] for person in snapshot["data"]["support_list"]]
    assert names, "the socket showed no names to begin with: the test would prove nothing"
    for text in frames:
        message = json.loads(text)
        assert message["type"] not in ("support_list", "follow_up_list", "snapshot"), message["type"]
        assert not any(name in text for name in names)


def watch_change_and_close(servers_and_sessions, shelter_id, change):
    """Open a socket per (server, session), run `change` (which returns the wall-clock time it
    began at), return per socket (snapshot, frames, close code, seconds from the change to the close)."""

    async def body():
        opened = [await open_socket(server, session, shelter_id) for server, session in servers_and_sessions]
        watchers = [asyncio.ensure_future(frames_until_closed(socket)) for socket, _ in opened]
        changed_at = await asyncio.to_thread(change)
        results = await asyncio.gather(*watchers)
        return [
            (snapshot, frames, code, round(closed_at - changed_at, 3))
            for (_, snapshot), (frames, code, closed_at) in zip(opened, results, strict=True)
        ]

    return asyncio.run(body())


@pytest.fixture(scope="module")
def servers(system):
    return system.start_daphne(), system.start_daphne()


def test_logging_out_through_one_server_closes_the_managers_socket_on_the_other(system, servers):
    server_a, server_b = servers
    username, shelter_id = make_manager(system)
    session = Session(server_b, username)

    def log_out_through_b():
        started = time.time()
        assert session.api("POST", "/logout/").status_code == 302
        return started

    [(snapshot, frames, code, seconds)] = watch_change_and_close([(server_a, session)], shelter_id, log_out_through_b)

    print(f"logout through B closed the socket on A after {seconds} s")
    assert code == SIGNED_OUT
    assert_no_names_after(snapshot, frames)


# What an administrator changes in a shell (any server, or none of the two): the code a socket closes with.
CHANGES = {
    "deactivation": ("u = User.objects.get(username={username!r})\nu.is_active = False\nu.save()", SIGNED_OUT),
    "the shelter taken away": (
        "User.objects.get(username={username!r}).managed_shelters.remove({shelter_id})",
        FORBIDDEN,
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_of_a_managers_rights_closes_their_sockets_on_both_servers(change, system, servers):
    server_a, server_b = servers
    username, shelter_id = make_manager(system)
    session_a, session_b = Session(server_a, username), Session(server_b, username)
    code_template, expected = CHANGES[change]

    def make_the_change():
        return change_began_at(system, code_template.format(username=username, shelter_id=shelter_id))

    results = watch_change_and_close([(server_a, session_a), (server_b, session_b)], shelter_id, make_the_change)

    print(change, "closed the sockets after", [seconds for *_, seconds in results], "s")
    assert [code for _, _, code, _ in results] == [expected, expected]
    for snapshot, frames, _, _ in results:
        assert_no_names_after(snapshot, frames)
