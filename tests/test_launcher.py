"""`make run`'s launcher, for real: daphne, a Celery worker and beat and a private Redis, stopped by Ctrl-C."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis

pytestmark = pytest.mark.integration

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_launcher_starts_the_whole_system_with_a_private_redis_and_ctrl_c_stops_it(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "PORT": str(port),
        # Nothing listens on port 9: the launcher must fall back to its own Redis.
        "REDIS_URL": "redis://127.0.0.1:9/0",
    }
    # The profile `make run` serves: the launcher's default (config.settings.local).
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=BASE_DIR, env=env, check=True, capture_output=True
    )
    log = (tmp_path / "launcher.log").open("w+")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "config.launcher"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: answers(f"http://127.0.0.1:{port}/login/")), log_text(log)
        redis_url = re.search(r"private server at (redis://\S+)", log_text(log)).group(1)
        assert redis.Redis.from_url(redis_url).ping()
        assert (tmp_path / "db.sqlite3").exists()
        assert (tmp_path / "secret_key").exists(), "the profile's secret, generated on first start"

        # The worker answers through the private Redis once it says it is ready.
        assert wait_for(lambda: " ready." in log_text(log), timeout=60), log_text(log)
        ping = subprocess.run(
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "inspect", "ping", "--timeout", "5"],
            cwd=BASE_DIR,
            env={**env, "REDIS_URL": redis_url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert wait_for(lambda: "beat: Starting" in log_text(log), timeout=30), log_text(log)
        assert "pong" in ping.stdout, ping.stdout + ping.stderr
    finally:
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C does to the foreground group
        exit_code = launcher.wait(timeout=60)

    assert exit_code == 0, log_text(log)
    assert not answers(f"http://127.0.0.1:{port}/login/")
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()


def log_text(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()
