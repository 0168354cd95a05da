"""How Celery tasks are retried, one policy for every app's tasks.

Retried: what a restart of PostgreSQL or Redis, or a deadlock victim, raises. Not retried: bugs and
integrity errors, which would fail the same way again. Acknowledged late, so a worker killed mid-run
leaves its message to be delivered again.
"""

import redis
from django.db import InterfaceError, OperationalError

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError, redis.RedisError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}
