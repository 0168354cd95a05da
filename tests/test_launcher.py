"""`make run`'s launcher, for real: Caddy on one port in front of gunicorn and daphne, a Celery worker
and beat and a private Redis, stopped by Ctrl-C."""

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest
import redis
import websockets

from tests.system import BASE_DIR, DEMO_PASSWORD, Session, free_port, launched, manage, wait_for

pytestmark = pytest.mark.integration


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_launcher_starts_the_whole_system_with_a_private_redis_and_ctrl_c_stops_it(tmp_path):
    port, sandbox_port = free_port(), free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "PORT": str(port),
        # Nothing listens on port 9: the launcher must fall back to its own Redis.
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "CITYOS_SANDBOX_PORT": str(sandbox_port),
    }
    # The profile `make run` serves: the launcher's default (config.settings.local).
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEMO_PASSWORD", "CITYOS_ISSUER"):
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

        # The City OS sandbox, with its sample residents' logins in the banner, serving its sign-in.
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        assert wait_for(lambda: answers(f"{sandbox}/o/.well-known/openid-configuration"), timeout=60)
        assert f"City OS sandbox (SAMPLE residents; CITYOS_ISSUER unset): {sandbox}/" in log_path.read_text()
        printed = dict(re.findall(r"^  (sample-\S+) +(\S+)$", log_path.read_text(), re.MULTILINE))
        assert len(printed) == 6 and all(len(password) >= 12 for password in printed.values())
        sign_in = httpx.get(f"http://127.0.0.1:{port}/oidc/authenticate/", timeout=10)
        assert sign_in.status_code == 302 and sign_in.headers["location"].startswith(f"{sandbox}/o/authorize/")

    assert launcher.returncode == 0, log_path.read_text()  # after Ctrl-C to the foreground group
    assert not answers(f"http://127.0.0.1:{port}/login/")
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()


def test_with_a_real_city_os_configured_the_launcher_starts_no_sandbox(tmp_path):
    port, sandbox_port = free_port(), free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "PORT": str(port),
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "CITYOS_SANDBOX_PORT": str(sandbox_port),
        "CITYOS_ISSUER": "https://city-os.example.jp/oidc",
    }
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"):
        env.pop(name, None)
    manage(env, "migrate", "--noinput")
    log_path = tmp_path / "launcher.log"
    with launched(env, log_path):
        assert wait_for(lambda: answers(f"http://127.0.0.1:{port}/login/"), timeout=60), log_path.read_text()
        assert "City OS sandbox" not in log_path.read_text()
        assert not answers(f"http://127.0.0.1:{sandbox_port}/o/.well-known/openid-configuration")
        assert not (tmp_path / "cityos-sandbox").exists()


def wsgi_servers(launcher: subprocess.Popen) -> list[psutil.Process]:
    """The gunicorn masters the launcher started (its direct children; their workers are below them)."""
    return [
        child
        for child in psutil.Process(launcher.pid).children()
        if any(part.endswith("gunicorn") for part in child.cmdline())
    ]


def test_one_port_serves_pages_and_the_api_from_the_wsgi_workers_and_sockets_from_daphne(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "PORT": str(port),
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "CITYOS_ISSUER": "https://city-os.example.jp/oidc",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "WEB_CONCURRENCY": "2",
        "HEALTH_CHECK_SECONDS": "1",
    }
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"):
        env.pop(name, None)
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo")
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "launcher.log"
    with launched(env, log_path) as launcher:
        assert wait_for(lambda: answers(f"{base}/login/"), timeout=60), log_path.read_text()
        hq = Session(base, "hq")
        page, api = hq.client.get("/", follow_redirects=True), hq.api("GET", "/api/shelters/")
        [wsgi] = wsgi_servers(launcher)
        workers = wsgi.children()

        async def city_snapshot() -> tuple[dict, list[str]]:
            headers = {"Cookie": hq.cookie_header, "Origin": base}
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/city/", additional_headers=headers) as socket:
                return json.loads(await asyncio.wait_for(socket.recv(), 10)), socket.response.headers.get_all("Server")

        snapshot, socket_server = asyncio.run(city_snapshot())

        assert (page.status_code, page.headers["server"]) == (200, "gunicorn")
        assert (api.status_code, api.headers["server"]) == (200, "gunicorn")
        assert len(workers) == 2
        assert "daphne" in socket_server
        assert snapshot["data"]["shelters"]

        # A WSGI server that dies is started again, and the one port serves pages from the new one.
        assert wait_for(lambda: "wsgi answers on" in log_path.read_text(), timeout=30), log_path.read_text()
        wsgi.kill()
        assert wait_for(lambda: "wsgi exited with -9; starting it again." in log_path.read_text(), timeout=30)
        assert wait_for(lambda: log_path.read_text().count("wsgi answers on") == 2, timeout=60), log_path.read_text()
        [restarted] = wsgi_servers(launcher)
        again = hq.client.get("/", follow_redirects=True)
        assert restarted.pid != wsgi.pid
        assert (again.status_code, again.headers["server"]) == (200, "gunicorn")
        assert not any(psutil.pid_exists(worker.pid) and worker.status() != psutil.STATUS_ZOMBIE for worker in workers)

    assert launcher.returncode == 0, log_path.read_text()
    assert not psutil.pid_exists(restarted.pid) or restarted.status() == psutil.STATUS_ZOMBIE
    assert not answers(f"{base}/login/")


def test_behind_the_proxy_the_client_is_the_last_forwarded_address_and_nothing_else():
    from config.wsgi import client_address_from_proxy

    def seen(**environ) -> str:
        return client_address_from_proxy(lambda environ, start_response: environ["REMOTE_ADDR"])(
            {"REMOTE_ADDR": "127.0.0.1", **environ}, None
        )

    assert seen(HTTP_X_FORWARDED_FOR="192.0.2.7") == "192.0.2.7"
    assert seen(HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.7") == "192.0.2.7"  # the proxy's own entry
    assert seen(HTTP_X_FORWARDED_FOR="2001:db8::1") == "2001:db8::1"
    assert seen() == "127.0.0.1"  # the launcher's own health checks
    assert seen(HTTP_X_FORWARDED_FOR="192.0.2.7, not-an-address") == "127.0.0.1"


def test_the_proxy_lets_an_idle_connection_to_gunicorn_go_before_gunicorn_closes_it():
    """Otherwise Caddy may send a POST on a connection gunicorn has just closed, and answer 502."""
    from config import launcher

    config = launcher.proxy_config(host="127.0.0.1", port=8000, wsgi_port=8001, daphne_port=8002)
    command = launcher.wsgi_command(8001)
    proxy_idle = int(re.search(r"keepalive (\d+)s", config).group(1))
    wsgi_keep_alive = int(command[command.index("--keep-alive") + 1])

    assert proxy_idle < wsgi_keep_alive
