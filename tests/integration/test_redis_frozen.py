"""A frozen Redis degrades the site; it does not stall it (issue 10, part 3).

The API throttles count in Redis too (the cache): they let requests through while it is out,
after the first call of the outage found it out (config/cache.py).

A private redis-server is frozen with SIGSTOP (a Redis that accepts connections and answers
nothing: the worst kind). Check-ins, a supply request and a survey upload go on being answered as
usual, none with a server error; the events they would have sent are dropped and counted (on
`/healthz`), the upload waits in the database for the resume sweep, and the log says once that
events are degraded instead of once per event. When Redis answers again, so does everything.
"""

import signal
import time
from pathlib import Path

import httpx
import pytest
import redis

from tests.system import PrivateRedis, Session, System, wait_for

pytestmark = pytest.mark.integration

CHECK_INS = 15
SURVEY_FILE = Path(__file__).resolve().parent.parent / "surveys" / "data" / "kobo_sample.csv"


@pytest.fixture
def frozen_redis_system(tmp_path):
    redis_server = PrivateRedis(tmp_path)
    system = System(workdir=tmp_path, redis_url=redis_server.url)
    try:
        yield system, redis_server
    finally:
        try:
            system.stop()
        finally:
            redis_server.stop()


def _log_lines(path: Path) -> list[str]:
    """The application's log lines (a server's own lines and access log left out)."""
    return [line for line in path.read_text().splitlines() if line[:4].isdigit() and " - - [" not in line]


def _health(server: str) -> dict:
    return httpx.get(f"{server}/healthz", timeout=10).json()


def test_check_ins_supply_requests_and_uploads_go_on_while_redis_is_frozen(frozen_redis_system):
    system, redis_server = frozen_redis_system
    # One WSGI worker: each process has its own breakers and counters, and /healthz shows those of
    # the process that answers it.
    server = system.start_site(workers=1)
    server_log = next(system.workdir.glob("wsgi-*.log"))
    hq = Session(server, "hq")
    shelter = hq.api("GET", "/api/shelters/").json()["results"][0]
    people = [
        p["id"]
        for p in hq.api("GET", "/api/evacuees/", params={"limit": 200}).json()["results"]
        if p["current_stay"] is None
    ][: CHECK_INS + 2]
    assert len(people) == CHECK_INS + 2
    assert (
        hq.api("POST", "/api/check-ins/", json={"shelter": shelter["id"], "evacuees": [people[0]]}).status_code == 201
    )
    lines_before = len(_log_lines(server_log))
    counters = redis.Redis.from_url(redis_server.url)
    epoch_before = counters.hget(f"{system.prefix}:stream:city", "epoch")

    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        statuses = [
            hq.api("POST", "/api/check-ins/", json={"shelter": shelter["id"], "evacuees": [person]}).status_code
            for person in people[1:-1]
        ]
        supply = hq.api(
            "POST", "/api/supply/requests/", json={"shelter": shelter["id"], "item": "water", "quantity": 3}
        )
        upload = hq.api(
            "POST",
            "/surveys/imports/",
            data={"shelter": str(shelter["id"])},
            files={"file": ("kobo.csv", SURVEY_FILE.read_bytes(), "text/csv")},
        )
        health = _health(server)
        time.sleep(0.5)  # let the log settle
        outage_lines = _log_lines(server_log)[lines_before:]
    finally:
        redis_server.process.send_signal(signal.SIGCONT)

    assert statuses == [201] * CHECK_INS
    assert supply.status_code == 201, supply.text
    assert upload.status_code == 302, upload.text[:500]  # accepted: to the job's page
    assert (health["status"], health["redis"], health["events"]["state"]) == ("degraded", "unavailable", "open")
    assert health["events"]["dropped"] >= CHECK_INS
    assert len(outage_lines) <= 3, "\n".join(outage_lines)

    assert wait_for(lambda: _health(server)["events"]["state"] == "closed", timeout=30)
    after = hq.api("POST", "/api/check-ins/", json={"shelter": shelter["id"], "evacuees": [people[-1]]})
    assert after.status_code == 201
    recovered = _health(server)
    assert (recovered["status"], recovered["events"]["outages"]) == ("ok", 1)
    # The dropped events took no number, so no client could see a gap: the city stream has another
    # epoch now, which the heartbeats announce, and every dashboard on it loads a fresh snapshot.
    assert epoch_before is not None
    assert counters.hget(f"{system.prefix}:stream:city", "epoch") not in (None, epoch_before)
