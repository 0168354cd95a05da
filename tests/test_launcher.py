"""`make run`'s launcher, for real: daphne, a Celery worker and beat and a private Redis, stopped by Ctrl-C."""

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis

from tests.system import BASE_DIR, free_port, launched, manage, wait_for

pytestmark = pytest.mark.integration


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
    manage(env, "migrate", "--noinput")
    log_path = tmp_path / "launcher.log"
    with launched(env, log_path) as launcher:
        assert wait_for(lambda: answers(f"http://127.0.0.1:{port}/login/"), timeout=60), log_path.read_text()
        redis_url = re.search(r"private server at (redis://\S+)", log_path.read_text()).group(1)
        assert redis.Redis.from_url(redis_url).ping()
        assert (tmp_path / "db.sqlite3").exists()
        assert (tmp_path / "secret_key").exists(), "the profile's secret, generated on first start"

        # The worker answers through the private Redis once it says it is ready.
        assert wait_for(lambda: " ready." in log_path.read_text(), timeout=60), log_path.read_text()
        ping = subprocess.run(
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "inspect", "ping", "--timeout", "5"],
            cwd=BASE_DIR,
            env={**env, "REDIS_URL": redis_url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert wait_for(lambda: "beat: Starting" in log_path.read_text(), timeout=30), log_path.read_text()
        assert "pong" in ping.stdout, ping.stdout + ping.stderr

    assert launcher.returncode == 0, log_path.read_text()  # after Ctrl-C to the foreground group
    assert not answers(f"http://127.0.0.1:{port}/login/")
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
