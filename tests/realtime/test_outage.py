"""The circuit breaker for Redis work (realtime/outage.py): one failure, then no waiting and one
log line per outage, and work flows again once Redis answers."""

import logging
import threading

import pytest
import redis

from realtime import outage
from tests.system import free_port


def unreachable_redis() -> redis.Redis:
    """A client for a port nothing listens on: every command fails, as with Redis gone."""
    return redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1, socket_timeout=1)


def test_after_one_failure_work_is_dropped_without_touching_redis_and_logged_once(caplog):
    answers = threading.Event()
    breaker = outage.Breaker("failing", degraded="nothing", probe=answers.is_set)
    client = unreachable_redis()
    attempts = []

    def work():
        attempts.append(1)
        client.incr("seq")

    with caplog.at_level(logging.WARNING, logger="realtime.outage"):
        results = [breaker.run(work) for _ in range(500)]

    assert results == [False] * 500
    assert len(attempts) == 1  # only the first reached for Redis
    assert breaker.state()["state"] == "open"
    assert (breaker.dropped, breaker.outages) == (500, 1)
    assert [record.getMessage()[:35] for record in caplog.records if "failing" in record.getMessage()] == [
        "Redis unavailable for failing (Conn"
    ]
    answers.set()


def test_work_flows_again_once_redis_answers_and_the_recovery_is_logged_once(caplog, monkeypatch):
    monkeypatch.setattr(outage, "PROBE_SECONDS", 0.01)
    answers = threading.Event()
    breaker = outage.Breaker("recovering", degraded="nothing", probe=answers.is_set)
    done = []

    with caplog.at_level(logging.WARNING, logger="realtime.outage"):
        breaker.run(unreachable_redis().ping)
        answers.set()
        for _ in range(500):
            if not breaker.is_open:
                break
            threading.Event().wait(0.01)
        assert breaker.run(lambda: done.append(1))

    assert done == [1]
    assert breaker.state()["state"] == "closed"
    assert [record.getMessage().split(" (")[0] for record in caplog.records if "recovering" in record.getMessage()] == [
        "Redis unavailable for recovering",
        "Redis answers again for recovering after 0 s; 1 dropped in this process so far",
    ]


def test_an_error_that_is_not_an_outage_is_raised_not_counted():
    breaker = outage.Breaker("test", degraded="nothing")

    def bug():
        raise ValueError("a bug, not Redis")

    with pytest.raises(ValueError):
        breaker.run(bug)
    assert (breaker.dropped, breaker.is_open) == (0, False)
