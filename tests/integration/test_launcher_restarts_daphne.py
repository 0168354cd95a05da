"""`make run`'s launcher restarts a daphne that is alive but does not serve (issue 10, part 1).

A wedged daphne (here: frozen with SIGSTOP, the way a process whose every thread waits looks from
outside) answers nothing on `/healthz`; after HEALTH_RESTART_AFTER_SECONDS the launcher kills it
and starts another on the same port. daphne holds the sockets behind the launcher's one port (pages
and the API are gunicorn's): a socket opened there is answered by the new daphne.
"""

import asyncio
import os
import subprocess

import httpx
import psutil
import pytest
import websockets

from tests.system import PrivateRedis, free_port, launched, manage, wait_for

pytestmark = pytest.mark.integration


def healthz(port: int) -> int | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
    except httpx.HTTPError:
        return None


def socket_answer(port: int) -> int | None:
    """The status the one port answers an anonymous socket with: daphne refuses it (403)."""

    async def connect():
        url = f"ws://127.0.0.1:{port}/ws/city/"
        async with websockets.connect(url, additional_headers={"Origin": f"http://127.0.0.1:{port}"}, open_timeout=5):
            pass

    try:
        asyncio.run(connect())
    except websockets.exceptions.InvalidStatus as refusal:
        return refusal.response.status_code
    except (OSError, TimeoutError):
        return None


def daphnes(launcher: subprocess.Popen) -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process(launcher.pid).children()
        if any(part.endswith("daphne") for part in child.cmdline())
    ]


def test_a_daphne_that_stops_answering_its_health_check_is_started_again(tmp_path):
    redis_server = PrivateRedis(tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "REDIS_URL": redis_server.url,
        "HEALTH_CHECK_SECONDS": "1",
        "HEALTH_RESTART_AFTER_SECONDS": "3",
    }
    env.pop("DATABASE_URL", None)
    manage(env, "migrate", "--noinput")
    log_path = tmp_path / "launcher.log"
    try:
        with launched(env, log_path) as launcher:
            assert wait_for(lambda: healthz(port) == 200, timeout=60), log_path.read_text()
            assert socket_answer(port) == 403
            # The launcher has seen it healthy too (a daphne that never answered is not wedged).
            assert wait_for(lambda: "daphne answers on" in log_path.read_text(), timeout=30), log_path.read_text()
            [wedged] = daphnes(launcher)
            wedged.suspend()  # SIGSTOP to the daphne this test's launcher started, by its pid

            assert wait_for(lambda: "daphne has not been healthy" in log_path.read_text(), timeout=30), (
                log_path.read_text()
            )
            assert wait_for(lambda: log_path.read_text().count("daphne answers on") == 2, timeout=60), (
                log_path.read_text()
            )
            assert socket_answer(port) == 403
            assert [process.pid for process in daphnes(launcher)] != [wedged.pid]
            assert not psutil.pid_exists(wedged.pid) or wedged.status() == psutil.STATUS_ZOMBIE
            assert launcher.poll() is None, log_path.read_text()
    finally:
        redis_server.stop()
