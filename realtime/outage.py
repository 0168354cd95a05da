"""Redis outages: after one failure, skip Redis for a while instead of waiting on it every time.

Redis carries what may be lost and made good later: live events (clients resynchronise from a
snapshot, beat's sweeps re-plan), the planner's debounce key, task messages for work that is a
durable row first. A frozen Redis answers nothing until each command's socket timeout
(`REDIS_TIMEOUT_MS`); paying that on every event made every check-in seconds slower and logged a
traceback per event. So each process keeps one circuit breaker per kind of Redis work:

- closed: work goes to Redis as usual;
- a failure opens it: the work is dropped and counted, and further work is dropped at once,
  without touching Redis, while a background probe (a PING with the same short timeout, every
  `PROBE_SECONDS`) waits for Redis to answer; then the breaker closes and work flows again.

`guard` is the same for callers that handle a Redis error themselves (the cache, config/cache.py:
the throttles let requests through). The log says once per outage what is degraded and once when it recovers, with the count dropped,
never once per event. `/healthz` shows each breaker's state and counts (config/health.py).
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import kombu.exceptions
import redis
from django.conf import settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

PROBE_SECONDS = 2.0

# What a lost, frozen or refusing Redis raises: redis-py's errors, the OS's, the publisher's wait
# running out (concurrent.futures.TimeoutError is TimeoutError since Python 3.11), and kombu's
# (Celery publishing) when it cannot reach the broker.
OUTAGE_ERRORS = (redis.RedisError, OSError, TimeoutError, kombu.exceptions.OperationalError)


def redis_ping() -> bool:
    """True when Redis answers a PING within the command timeout."""
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
    )
    try:
        return bool(client.ping())
    except OUTAGE_ERRORS:
        return False
    finally:
        client.close()


@dataclass
class Breaker:
    """One kind of Redis work in this process (`events`, `tasks`): its state and what it dropped."""

    name: str
    degraded: str  # what the log says stops working meanwhile
    probe: Callable[[], bool] = redis_ping
    dropped: int = 0
    outages: int = 0
    open_since: float | None = None  # time.time() of the failure that opened it
    # Called in the probe's thread once Redis answers again, to make good what the outage dropped.
    on_recovery: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def is_open(self) -> bool:
        return self.open_since is not None

    def run(self, work: Callable[[], object]) -> bool:
        """Do `work` unless Redis is known to be out; False when it was dropped (and counted)."""
        try:
            self.guard(work)
        except OUTAGE_ERRORS:
            return False
        return True

    def guard(self, work: Callable[[], T]) -> T:
        """`run` for callers that handle Redis errors themselves: while Redis is out, raise at once."""
        if self.is_open:
            self._dropped()
            raise redis.ConnectionError(f"Redis is out; {self.name} skipped until it answers")
        try:
            return work()
        except OUTAGE_ERRORS as error:
            self._opened(error)
            self._dropped()
            raise

    def _dropped(self) -> None:
        with self._lock:
            self.dropped += 1

    def _opened(self, error: BaseException) -> None:
        with self._lock:
            if self.is_open:
                return
            self.open_since = time.time()
            self.outages += 1
        logger.warning(
            "Redis unavailable for %s (%s: %s): %s until it answers again",
            self.name,
            type(error).__name__,
            error,
            self.degraded,
        )
        threading.Thread(target=self._wait_for_redis, name=f"outage-probe-{self.name}", daemon=True).start()

    def _wait_for_redis(self) -> None:
        while not self.probe():
            time.sleep(PROBE_SECONDS)
        with self._lock:
            lasted = time.time() - (self.open_since or time.time())
            dropped = self.dropped
        # Said before closing, so whoever sees the breaker closed also finds the line in the log.
        logger.warning(
            "Redis answers again for %s after %.0f s; %d dropped in this process so far", self.name, lasted, dropped
        )
        with self._lock:
            self.open_since = None
        for callback in self.on_recovery:
            try:
                callback()
            except Exception:
                logger.exception("Recovering %s after the Redis outage failed", self.name)

    def state(self) -> dict:
        return {
            "state": "open" if self.is_open else "closed",
            "dropped": self.dropped,
            "outages": self.outages,
            "open_for_seconds": round(time.time() - self.open_since, 1) if self.open_since else 0,
        }


EVENTS = Breaker("events", degraded="live events are dropped; dashboards catch up from a snapshot")
TASKS = Breaker("tasks", degraded="background work waits in the database for beat's sweep")
CACHE = Breaker("cache", degraded="API throttles and the survey form's limits let requests through")

BREAKERS = (EVENTS, TASKS, CACHE)


def _reset_in_child() -> None:
    """A forked child (Celery's prefork pool) has no probe thread: it finds out about Redis itself."""
    for breaker in BREAKERS:
        breaker.open_since = None
        breaker._lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_in_child)


def states() -> dict[str, dict]:
    return {breaker.name: breaker.state() for breaker in BREAKERS}
