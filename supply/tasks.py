"""Celery tasks for supplies. They take no arguments, re-read the database and are safe to run
twice: the planner claims rows with SKIP LOCKED and keys each supply task by its requests.

Messages are acknowledged late (settings: CELERY_TASK_ACKS_LATE, REJECT_ON_WORKER_LOST), so a
worker killed mid-run leaves its message to be delivered again; the re-run finds the committed
batches done and plans only what was left.
"""

import redis
from celery import shared_task
from django.db import InterfaceError, OperationalError

from supply import services

# Retried: what a restart of PostgreSQL or Redis, or a deadlock victim, raises. Not retried: bugs
# and integrity errors, which would fail the same way again.
RETRY = {
    "autoretry_for": (OperationalError, InterfaceError, redis.RedisError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(**RETRY)
def supply_plan() -> dict:
    """Plan every open request (queued after new requests, and swept periodically by beat)."""
    services.plan_debounce_clear()
    result = services.supply_plan_open_requests()
    return {"requests": result.requests_planned, "tasks": result.tasks_created, "sourced": result.tasks_sourced}


@shared_task(**RETRY)
def supply_check_overdue() -> dict:
    result = services.supply_check_overdue()
    return {"flagged": len(result.flagged), "replanned": len(result.replanned)}
