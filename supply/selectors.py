"""Reads for supplies: tasks each persona may see, and the HQ supply board's figures.

Requests may name a person: they are read through `access.supply_requests` only.
"""

from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from access import policy
from access.figures import waiting_request_totals
from supply.models import Depot, Item, Leg, Stock, SupplyTask, TaskStatus

OPEN_TASK_STATUSES = [TaskStatus.PLANNED, TaskStatus.DISPATCHED, TaskStatus.DELIVERED]


def tasks_visible_to(user) -> QuerySet[SupplyTask]:
    """Tasks are figures (shelter, item, quantity, dates): HQ and officials see all, managers their own."""
    queryset = SupplyTask.objects.select_related("item", "shelter")
    if policy.can_watch_supplies(user):
        return queryset
    return queryset.filter(shelter_id__in=policy.managed_shelter_ids(user))


def supply_board(*, now: datetime | None = None, limit: int = 200) -> dict:
    """HQ's supply board: open tasks by due time, overdue ones, stock per depot, shortages."""
    now = now or timezone.now()
    open_tasks = (
        SupplyTask.objects.filter(status__in=OPEN_TASK_STATUSES)
        .select_related("item", "shelter")
        .order_by("promised_at", "id")
    )
    tasks = [_task_row(task, now) for task in open_tasks[:limit]]
    overdue = [
        _task_row(task, now)
        for task in open_tasks.filter(Q(promised_at__lt=now) | Q(overdue_since__isnull=False))[:limit]
    ]
    stock = [
        {
            "depot": row["depot__name"],
            "depot_id": row["depot_id"],
            "item": row["item__code"],
            "on_hand": row["on_hand"],
            "reserved": row["reserved"],
            "available": row["on_hand"] - row["reserved"],
        }
        for row in Stock.objects.order_by("depot__code", "item__sort_order").values(
            "depot_id", "depot__name", "item__code", "on_hand", "reserved"
        )
    ]
    return {
        "generated_at": now.isoformat(),
        "counts": dict(
            SupplyTask.objects.filter(status__in=OPEN_TASK_STATUSES)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        ),
        "tasks": tasks,
        "overdue": overdue,
        "stock": stock,
        "shortages": shortages(),
        "depots": list(Depot.objects.filter(active=True).values("id", "code", "name")),
    }


def _task_row(task: SupplyTask, now: datetime) -> dict:
    return {
        "id": task.pk,
        "shelter": task.shelter_id,
        "shelter_name": task.shelter.name,
        "item": task.item.code,
        "item_name": task.item.name,
        "quantity": task.quantity,
        "unsourced": task.unsourced_quantity,
        "status": task.status,
        "status_label": str(TaskStatus(task.status).label),
        "promised_at": task.promised_at.isoformat() if task.promised_at else None,
        "overdue": bool(task.overdue_since) or bool(task.promised_at and task.promised_at < now),
    }


def shortages() -> list[dict]:
    """Items whose open demand exceeds what depots hold plus what suppliers are bringing.

    Demand: everything asked for and not yet dispatched (requests waiting for the planner, what
    planned tasks reserved, bought or could not source yet). Covered: depot stock on hand plus
    what suppliers are bringing.
    """
    waiting = waiting_request_totals()
    unsourced = dict(
        SupplyTask.objects.filter(status=TaskStatus.PLANNED, unsourced_quantity__gt=0)
        .values_list("item_id")
        .annotate(total=Sum("unsourced_quantity"))
        .values_list("item_id", "total")
    )
    reserved = dict(
        Stock.objects.values_list("item_id").annotate(total=Sum("reserved")).values_list("item_id", "total")
    )
    on_hand = dict(Stock.objects.values_list("item_id").annotate(total=Sum("on_hand")).values_list("item_id", "total"))
    coming = dict(
        Leg.objects.filter(supplier__isnull=False, task__status__in=OPEN_TASK_STATUSES)
        .values_list("task__item_id")
        .annotate(total=Sum("quantity"))
        .values_list("task__item_id", "total")
    )
    rows = []
    for item in Item.objects.all():
        pk = item.pk
        demand = waiting.get(pk, 0) + unsourced.get(pk, 0) + reserved.get(pk, 0) + coming.get(pk, 0)
        covered = on_hand.get(pk, 0) + coming.get(pk, 0)
        if demand > covered:
            rows.append(
                {
                    "item": item.code,
                    "item_name": item.name,
                    "demand": demand,
                    "stock": on_hand.get(pk, 0),
                    "coming": coming.get(pk, 0),
                    "short_by": demand - covered,
                }
            )
    return rows
