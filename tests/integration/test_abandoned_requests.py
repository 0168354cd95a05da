"""Requests that clients give up on never take the server down (issue 10, part 1).

A shelter's row is locked from another connection; more check-ins than the pool has connections
wait on it, and their clients give up after a second, as a tablet on flaky Wi-Fi does. daphne kills
each abandoned request after its close timeout (10 s). Once the lock is gone, the same server must
answer normally: every connection those requests took has gone back to the pool.
"""

import contextlib
import os
import threading
import time

import httpx
import psycopg
import pytest

from tests.system import Session, System

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="needs PostgreSQL (DATABASE_URL): the pool and the row locks are PostgreSQL's",
    ),
]

ABANDONED = 12  # more than the pool's 8 connections
# Longer than daphne's application close timeout (10 s): daphne cancels each request while it waits.
LOCK_HELD_SECONDS = 14


def _abandon_check_in(base_url: str, session: Session, body: dict) -> None:
    """POST a check-in and hang up after a second, whatever the server is doing."""
    headers = {
        "X-CSRFToken": session.client.cookies.get("csrftoken", ""),
        "Referer": base_url + "/",
        "Cookie": session.cookie_header,
    }
    with contextlib.suppress(httpx.TimeoutException):
        httpx.post(f"{base_url}/api/check-ins/", json=body, headers=headers, timeout=1)


def _hold_shelter_lock(system: System, shelter_id: int, released: threading.Event, seconds: float) -> None:
    with psycopg.connect(system.database_url) as connection, connection.transaction():
        connection.execute("SELECT id FROM shelters_shelter WHERE id = %s FOR UPDATE", [shelter_id])
        released.wait(seconds)


@pytest.mark.parametrize(
    "lock_timeout",
    [
        pytest.param(None, id="default-settings"),
        # No lock timeout: only the guarantee that a request's connection goes back to the pool,
        # whatever became of the request, keeps the server alive.
        pytest.param("0", id="without-lock-timeout"),
    ],
)
def test_abandoned_requests_waiting_on_a_lock_leave_the_server_answering(system, lock_timeout):
    if lock_timeout is not None:
        system.env["DB_LOCK_TIMEOUT_MS"] = lock_timeout
    try:
        server = system.start_daphne()
    finally:
        system.env.pop("DB_LOCK_TIMEOUT_MS", None)
    hq = Session(server, "hq")
    shelter = hq.api("GET", "/api/shelters/").json()["results"][0]
    person = next(
        p for p in hq.api("GET", "/api/evacuees/", params={"limit": 200}).json()["results"] if p["current_stay"] is None
    )
    body = {"shelter": shelter["id"], "evacuees": [person["id"]]}

    released = threading.Event()
    holder = threading.Thread(target=_hold_shelter_lock, args=(system, shelter["id"], released, 60))
    holder.start()
    time.sleep(0.5)
    clients = [threading.Thread(target=_abandon_check_in, args=(server, hq, body)) for _ in range(ABANDONED)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    time.sleep(LOCK_HELD_SECONDS)
    released.set()
    holder.join()

    started = time.monotonic()
    answer = httpx.get(f"{server}/api/shelters/", headers={"Cookie": hq.cookie_header}, timeout=60)
    assert answer.status_code == 200, answer.text[:500]
    # The server answers the next requests too, at once: the pool has its connections back.
    for _ in range(10):
        assert hq.api("GET", f"/api/shelters/{shelter['id']}/").status_code == 200
    print(f"answered again {time.monotonic() - started:.2f} s after the lock went")
