"""Celery tasks for supplies. They take no arguments, re-read the database and are safe to run
twice: the planner claims rows with SKIP LOCKED and keys each supply task by its requests.

Messages are acknowledged late (settings: CELERY_TASK_ACKS_LATE, REJECT_ON_WORKER_LOST), so a
worker killed mid-run leaves its message to be delivered again; the re-run finds the committed
batches done and plans only what was left.
"""

from celery import shared_task

from common.retries import RETRY
from supply import services


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
