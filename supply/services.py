"""Every write to supplies: requests, stock, and supply tasks from planning to receipt.

Locks, always taken in this order so that concurrent writers cannot deadlock:
requests (skip_locked) → supply tasks → depots (by id) → stock rows (by id) → depot days.
A writer that already holds a depot or stock row never waits for a task: it skips locked tasks.

The planner is safe to run twice and to run twice at once: it claims open requests with
`SKIP LOCKED`, and a task's unique key is derived from the requests it groups, so a repeated run
(after a crash, or a redelivered Celery message) finds nothing left to plan.
"""

import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.errors import ApplicationError
from common.limits import INT32_MAX
from notifications.models import NotificationKind
from notifications.services import notification_create
from realtime import broadcast, outage
from shelters.models import DataSource, Evacuee, Shelter, User
from shelters.services.moves import PeopleMoved
from shelters.services.retention import PersonAnonymised
from supply import planning
from supply.events import SUPPLY_CHANGED, SUPPLY_OVERDUE
from supply.models import (
    Depot,
    DepotDay,
    Item,
    Leg,
    Request,
    RequestOrigin,
    RequestStatus,
    Stock,
    Supplier,
    SupplierItem,
    SupplyTask,
    TaskStatus,
    Urgency,
)

logger = logging.getLogger(__name__)

URGENCY_RANK = {Urgency.CRITICAL: 0, Urgency.URGENT: 1, Urgency.NORMAL: 2}


# --- Requests ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NeedLine:
    item_code: str
    quantity: int | None = None
    detail: str = ""


@transaction.atomic
def requests_from_survey(
    *, response, shelter: Shelter, evacuee: Evacuee | None, needs: list[NeedLine], source: str = DataSource.REAL
) -> list[Request]:
    """File one open request per item a survey response asked for (once, however often it is re-run)."""
    if not needs:
        return []
    items = {item.code: item for item in Item.objects.filter(code__in=[need.item_code for need in needs])}
    requests = [
        Request(
            shelter=shelter,
            evacuee=evacuee,
            item=items[need.item_code],
            quantity=need.quantity,
            detail=need.detail[:500],
            urgency=Urgency.NORMAL,
            origin=RequestOrigin.SURVEY,
            survey_response=response,
            source=source,
        )
        for need in needs
        if need.item_code in items
    ]
    Request.objects.bulk_create(requests, ignore_conflicts=True)
    transaction.on_commit(supply_plan_soon, robust=True)
    return list(Request.objects.filter(survey_response=response))


@transaction.atomic
def request_create(
    *,
    shelter: Shelter,
    item: Item,
    actor: User | None,
    quantity: int | None,
    urgency: str = Urgency.NORMAL,
    evacuee: Evacuee | None = None,
    detail: str = "",
    origin: str = RequestOrigin.MANUAL,
    source: str = DataSource.REAL,
) -> Request:
    """A request entered by shelter staff, for a person or for the whole shelter.

    The row is committed before anything is queued: if Redis is down the planner's sweep finds it.
    """
    if quantity is not None and quantity <= 0:
        raise ApplicationError(_("Enter a quantity of at least 1."), field="quantity")
    if urgency not in Urgency.values:
        raise ApplicationError(_("Choose an urgency."), field="urgency")
    request = Request.objects.create(
        shelter=shelter,
        evacuee=evacuee,
        item=item,
        quantity=quantity,
        urgency=urgency,
        detail=detail[:500],
        origin=origin,
        created_by=actor,
        source=source,
    )
    audit_record(
        actor=actor,
        action="supply_request.create",
        object_type="supply.Request",
        object_id=request.pk,
        details={"shelter": shelter.pk, "item": item.code, "for_person": evacuee is not None},
    )
    transaction.on_commit(supply_plan_soon, robust=True)
    return request


@transaction.atomic
def request_cancel(*, request_id: int, actor: User) -> Request:
    """Withdraw a request the planner has not grouped into a task yet."""
    request = Request.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise ApplicationError(_("This request no longer exists."), code="not_found", status_code=404)
    if request.status != RequestStatus.OPEN:
        raise ApplicationError(
            _("This request is already planned: ask HQ to cancel its supply task."), code="already_planned"
        )
    request.status = RequestStatus.CANCELLED
    request.save(update_fields=["status"])
    audit_record(actor=actor, action="supply_request.cancel", object_type="supply.Request", object_id=request.pk)
    return request


def requests_follow_person(move: PeopleMoved) -> None:
    """Open requests of people who moved go to their new shelter (a `shelters` move handler).

    Only requests the planner has not grouped yet: a planned one is on a delivery to the old
    shelter. One UPDATE whose WHERE is checked again after any lock wait, so a request the planner
    claims at the same moment stays planned where it was.
    """
    moved = (
        Request.objects.filter(evacuee_id__in=move.evacuee_ids, status=RequestStatus.OPEN)
        .exclude(shelter_id=move.to_shelter_id)
        .update(shelter_id=move.to_shelter_id)
    )
    if moved:
        audit_record(
            actor=move.actor,
            action="supply_request.follow_person",
            object_type="shelters.Shelter",
            object_id=move.to_shelter_id,
            details={"requests": moved},
        )


def requests_open_for_person() -> Exists:
    """True for a person (an Evacuee row) with an open request: what `requests_follow_person` moves."""
    return Exists(Request.objects.filter(evacuee_id=OuterRef("pk"), status=RequestStatus.OPEN))


def requests_anonymise_person(anonymised: PersonAnonymised) -> dict[str, int]:
    """A request's detail may name its person: blanked when the person is anonymised (a retention
    handler, shelters/services/retention.py). The request itself, its item and quantity stay: they
    are the shelter's supply history."""
    person = anonymised.evacuee_id
    blanked = (
        Request.objects.filter(Q(evacuee_id=person) | Q(survey_response__respondent_id=person))
        .exclude(detail="")
        .update(detail="")
    )
    return {"supply_request_details": blanked}


# --- Enqueueing the planner: debounced, and never in the way of a request ----------------------------

_debounce_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _debounce_client
    if _debounce_client is None:
        timeout = settings.REDIS_TIMEOUT_SECONDS
        _debounce_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
        )
    return _debounce_client


def plan_debounce_key() -> str:
    return f"{settings.REDIS_PREFIX}:supply:plan-queued"


# Queued by name: the tasks module imports these services, never the other way round.
SUPPLY_PLAN_TASK = "supply.tasks.supply_plan"


def supply_plan_soon() -> None:
    """Queue one planning run a few seconds from now, unless one is already queued.

    Called after commit. Failure here loses nothing (the requests are in the database and the
    beat sweep plans them), so a broker that is down costs a log line, not the user's request.
    """
    try:
        # While Redis is out this returns at once (realtime/outage.py); the sweep plans later.
        outage.TASKS.run(_plan_queue)
    except Exception:
        logger.warning("could not queue supply planning; the sweep will plan the waiting requests", exc_info=True)


def _plan_queue() -> None:
    delay = settings.SUPPLY_PLAN_DEBOUNCE_SECONDS
    if _redis().set(plan_debounce_key(), "1", nx=True, ex=max(delay, 1)):
        current_app.send_task(SUPPLY_PLAN_TASK, countdown=delay, retry=False)


def plan_debounce_clear() -> None:
    """A run is starting: requests filed from now on need a run of their own."""
    with contextlib.suppress(redis.RedisError):
        _redis().delete(plan_debounce_key())


# --- Planning ------------------------------------------------------------------------------------------


@dataclass
class PlanResult:
    requests_planned: int = 0
    tasks_created: int = 0
    tasks_sourced: int = 0
    task_ids: list[int] = field(default_factory=list)


def _float(value) -> float | None:
    return None if value is None else float(value)


class _Sourcing:
    """The state of one planning transaction: locked depots, stock rows and depot days in memory."""

    def __init__(self, *, now: datetime, item_ids: set[int]):
        self.now = now
        self.tz = timezone.get_default_timezone()
        self.depots = {d.pk: d for d in Depot.objects.filter(active=True).order_by("id").select_for_update()}
        self.stock_by_item: dict[int, list[Stock]] = defaultdict(list)
        for stock in (
            Stock.objects.filter(item_id__in=item_ids, depot_id__in=self.depots).order_by("id").select_for_update()
        ):
            self.stock_by_item[stock.item_id].append(stock)
        self.days = {
            (day.depot_id, day.day): day
            for day in DepotDay.objects.filter(
                depot_id__in=self.depots, day__gte=now.astimezone(self.tz).date()
            ).select_for_update()
        }
        self.suppliers_by_item: dict[int, list[SupplierItem]] = defaultdict(list)
        for offer in SupplierItem.objects.filter(item_id__in=item_ids, supplier__active=True).select_related(
            "supplier"
        ):
            self.suppliers_by_item[offer.item_id].append(offer)
        self.changed_stock: dict[int, Stock] = {}
        self.changed_days: set[tuple[int, object]] = set()

    def travel(self, distance: float) -> timedelta:
        return planning.travel_time(
            distance,
            road_speed_kmh=settings.SUPPLY_ROAD_SPEED_KMH,
            detour_percent=settings.SUPPLY_ROAD_DETOUR_PERCENT,
            loading_minutes=settings.SUPPLY_LOADING_MINUTES,
        )

    def _distance(self, place, latitude, longitude) -> float:
        # A shelter without coordinates is planned as if next door; HQ sees it has none.
        if latitude is None or longitude is None:
            return 0.0
        return planning.distance_km(float(place.latitude), float(place.longitude), latitude, longitude)

    def source(self, *, task: SupplyTask, quantity: int, latitude, longitude) -> tuple[list[Leg], int]:
        """Reserve `quantity` for the task: nearest depots with stock first, then the fastest supplier."""
        stocks = {stock.depot_id: stock for stock in self.stock_by_item.get(task.item_id, [])}
        distances = {depot_id: self._distance(self.depots[depot_id], latitude, longitude) for depot_id in stocks}
        taken, remaining = planning.allocate(
            quantity,
            [
                planning.Source(key=depot_id, distance=distances[depot_id], available=s.available)
                for depot_id, s in stocks.items()
            ],
        )
        legs = []
        for depot_id, part in taken:
            depot = self.depots[depot_id]
            slot = planning.next_dispatch_slot(
                now=self.now,
                opens=depot.dispatch_opens,
                closes=depot.dispatch_closes,
                per_day=depot.dispatches_per_day,
                next_index=lambda day, depot_id=depot_id: (
                    self.days[(depot_id, day)].next_slot if (depot_id, day) in self.days else 0
                ),
                tz=self.tz,
            )
            day = self.days.setdefault((depot_id, slot.day), DepotDay(depot_id=depot_id, day=slot.day))
            day.next_slot = slot.index + 1
            self.changed_days.add((depot_id, slot.day))
            stock = stocks[depot_id]
            stock.reserved += part
            self.changed_stock[stock.pk] = stock
            legs.append(
                Leg(
                    task=task,
                    depot_id=depot_id,
                    quantity=part,
                    dispatch_at=slot.at,
                    arrive_at=slot.at + self.travel(distances[depot_id]),
                    distance_km=round(distances[depot_id], 3),
                )
            )
        if remaining:
            best = None
            for offer in self.suppliers_by_item.get(task.item_id, []):
                distance = self._distance(offer.supplier, latitude, longitude)
                ready = self.now + timedelta(hours=offer.lead_time_hours)
                arrive = planning.supplier_arrival(
                    now=self.now, lead_time_hours=offer.lead_time_hours, travel=self.travel(distance)
                )
                if best is None or (arrive, offer.supplier_id) < (best.arrive_at, best.supplier_id):
                    best = Leg(
                        task=task,
                        supplier_id=offer.supplier_id,
                        quantity=remaining,
                        dispatch_at=ready,
                        arrive_at=arrive,
                        distance_km=round(distance, 3),
                    )
            if best is not None:
                legs.append(best)
                remaining = 0
        return legs, remaining

    def save(self) -> None:
        if self.changed_stock:
            Stock.objects.bulk_update(list(self.changed_stock.values()), ["reserved"], batch_size=1000)
        new_days = [self.days[key] for key in self.changed_days if self.days[key].pk is None]
        old_days = [self.days[key] for key in self.changed_days if self.days[key].pk is not None]
        DepotDay.objects.bulk_create(new_days)
        DepotDay.objects.bulk_update(old_days, ["next_slot"], batch_size=1000)


def _promise(task: SupplyTask, legs: list[Leg]) -> None:
    task.promised_at = None if task.unsourced_quantity else planning.promised_time([leg.arrive_at for leg in legs])


def supply_plan_open_requests(*, now: datetime | None = None, batch: int | None = None) -> PlanResult:
    """Group every open request into supply tasks per shelter and item, reserve stock, promise dates.

    Each batch is its own transaction; a crash loses only the batch in progress, which the next run
    plans again from scratch. Tasks still waiting for stock are re-sourced at the end.
    """
    batch = batch or settings.SUPPLY_PLAN_BATCH
    result = PlanResult()
    while True:
        planned = _plan_batch(now=now or timezone.now(), batch=batch, result=result)
        if planned < batch:
            break
    _resource_waiting_tasks(now=now or timezone.now(), result=result)
    return result


def _within_one_task(requests: list[Request]) -> Iterator[list[Request]]:
    """One shelter's requests for one item, in as few tasks as the quantity column (int32) allows.

    Each request is within it (the API's bound), but their sum may not be: one over-full task would
    fail the whole batch, every time the planner ran.
    """
    members: list[Request] = []
    total = 0
    for request in requests:
        if members and total + request.planned_quantity > INT32_MAX:
            yield members
            members, total = [], 0
        members.append(request)
        total += request.planned_quantity
    if members:
        yield members


@transaction.atomic
def _plan_batch(*, now: datetime, batch: int, result: PlanResult) -> int:
    requests = list(
        Request.objects.filter(status=RequestStatus.OPEN)
        .order_by("id")
        .select_for_update(skip_locked=True, of=("self",))
        .only("id", "shelter_id", "item_id", "quantity", "urgency", "source")[:batch]
    )
    if not requests:
        return 0
    groups: dict[tuple[int, int], list[Request]] = defaultdict(list)
    for request in requests:
        groups[(request.shelter_id, request.item_id)].append(request)
    shelters = {
        s["id"]: s
        for s in Shelter.objects.filter(id__in={key[0] for key in groups}).values("id", "latitude", "longitude")
    }
    sourcing = _Sourcing(now=now, item_ids={key[1] for key in groups})
    # The most urgent needs get the nearest stock; among equals, the oldest request first.
    ordered = sorted(groups.items(), key=lambda entry: (min(URGENCY_RANK[r.urgency] for r in entry[1]), entry[1][0].pk))
    tasks, all_legs = [], []
    for (shelter_id, item_id), members in (
        (key, members) for key, group in ordered for members in _within_one_task(group)
    ):
        quantity = sum(r.planned_quantity for r in members)
        task = SupplyTask(
            key=f"s{shelter_id}-i{item_id}-r{members[0].pk}",
            shelter_id=shelter_id,
            item_id=item_id,
            quantity=quantity,
            planned_at=now,
            source=members[0].source if len({r.source for r in members}) == 1 else DataSource.REAL,
        )
        shelter = shelters[shelter_id]
        legs, unsourced = sourcing.source(
            task=task, quantity=quantity, latitude=_float(shelter["latitude"]), longitude=_float(shelter["longitude"])
        )
        task.unsourced_quantity = unsourced
        _promise(task, legs)
        tasks.append((task, members))
        all_legs.extend(legs)
    SupplyTask.objects.bulk_create([task for task, _members in tasks], batch_size=1000)
    for leg in all_legs:
        leg.task_id = leg.task.pk
    Leg.objects.bulk_create(all_legs, batch_size=1000)
    sourcing.save()
    for task, members in tasks:
        for request in members:
            request.task_id = task.pk
            request.status = RequestStatus.PLANNED
    Request.objects.bulk_update(requests, ["task_id", "status"], batch_size=1000)
    _tell_shelters([task for task, _members in tasks])
    result.requests_planned += len(requests)
    result.tasks_created += len(tasks)
    result.task_ids.extend(task.pk for task, _ in tasks)
    return len(requests)


@transaction.atomic
def _resource_waiting_tasks(*, now: datetime, result: PlanResult) -> None:
    """Tasks the depots could not cover try again (stock arrived, a supplier was added)."""
    tasks = list(
        SupplyTask.objects.filter(status=TaskStatus.PLANNED, unsourced_quantity__gt=0)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("shelter")
        .order_by("id")
    )
    if not tasks:
        return
    sourcing = _Sourcing(now=now, item_ids={task.item_id for task in tasks})
    sourced = []
    for task in tasks:
        legs, unsourced = sourcing.source(
            task=task,
            quantity=task.unsourced_quantity,
            latitude=_float(task.shelter.latitude),
            longitude=_float(task.shelter.longitude),
        )
        if not legs:
            continue
        Leg.objects.bulk_create(legs)
        task.unsourced_quantity = unsourced
        _promise(task, list(task.legs.all()))
        task.save(update_fields=["unsourced_quantity", "promised_at"])
        sourced.append(task)
    sourcing.save()
    _tell_shelters(sourced)
    result.tasks_sourced += len(sourced)


def _format_time(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _tell_shelters(tasks: list[SupplyTask]) -> None:
    """One notification per shelter with the promised dates, and one event for HQ's board."""
    if not tasks:
        return
    items = {item.pk: item for item in Item.objects.filter(pk__in={task.item_id for task in tasks})}
    by_shelter: dict[int, list[SupplyTask]] = defaultdict(list)
    for task in tasks:
        by_shelter[task.shelter_id].append(task)
    # Stored once, in the installation's language (the notification text is not re-translated).
    with translation.override(settings.LANGUAGE_CODE):
        for shelter_id, shelter_tasks in by_shelter.items():
            lines = []
            for task in shelter_tasks:
                item = items[task.item_id]
                if task.promised_at:
                    lines.append(
                        _("%(item)s × %(quantity)s %(unit)s: by %(time)s")
                        % {
                            "item": item.name,
                            "quantity": task.quantity,
                            "unit": item.unit,
                            "time": _format_time(task.promised_at),
                        }
                    )
                else:
                    lines.append(
                        _("%(item)s × %(quantity)s %(unit)s: no date yet (waiting for stock)")
                        % {"item": item.name, "quantity": task.quantity, "unit": item.unit}
                    )
            notification_create(
                shelter_id=shelter_id,
                kind=NotificationKind.SUPPLY,
                title=_("Delivery dates for your supply requests"),
                body="\n".join(lines),
            )
    board_changed(task_ids=[task.pk for task in tasks])


def board_changed(*, task_ids: list[int]) -> None:
    """Tell HQ's supply board (the city stream: figures only) which tasks changed, after commit."""
    ids = list(task_ids)
    transaction.on_commit(
        lambda: broadcast.send(event_type=SUPPLY_CHANGED, streams=[broadcast.CITY_STREAM], data={"tasks": ids}),
        robust=True,
    )


# --- Stock --------------------------------------------------------------------------------------------


@transaction.atomic
def stock_adjust(*, depot_id: int, item_id: int, change: int, actor: User | None, reason: str = "") -> Stock:
    """Stock counted in or out of a depot. Taking out more than is free releases planned tasks'
    reservations (newest first), which the planner then sources again."""
    depot = Depot.objects.select_for_update().filter(pk=depot_id).first()
    if depot is None:
        raise ApplicationError(_("This depot does not exist."), field="depot")
    stock, _created = Stock.objects.get_or_create(depot_id=depot_id, item_id=item_id)
    stock = Stock.objects.select_for_update().get(pk=stock.pk)
    new_on_hand = stock.on_hand + change
    if new_on_hand < 0:
        raise ApplicationError(
            _("The depot holds only %(count)s.") % {"count": stock.on_hand}, field="change", code="negative_stock"
        )
    if new_on_hand > INT32_MAX:
        raise ApplicationError(
            _("A depot holds at most %(count)s of an item.") % {"count": INT32_MAX}, field="change", code="too_much"
        )
    released = 0
    if stock.reserved > new_on_hand:
        released = _release_reservations(stock=stock, amount=stock.reserved - new_on_hand)
        if stock.reserved > new_on_hand:
            raise ApplicationError(
                _("That much is being dispatched right now; try again in a moment."), field="change", code="busy"
            )
    stock.on_hand = new_on_hand
    stock.save(update_fields=["on_hand", "reserved", "updated_at"])
    audit_record(
        actor=actor,
        action="supply_stock.adjust",
        object_type="supply.Stock",
        object_id=stock.pk,
        details={"depot": depot_id, "item": item_id, "change": change, "released": released, "reason": reason[:200]},
    )
    # More stock may cover tasks that were waiting, fewer may have un-planned some: plan again.
    transaction.on_commit(supply_plan_soon, robust=True)
    board_changed(task_ids=[])
    return stock


def _release_reservations(*, stock: Stock, amount: int) -> int:
    """Take back `amount` reserved on this stock row from the newest planned tasks (not locked ones)."""
    legs = (
        Leg.objects.filter(depot_id=stock.depot_id, task__item_id=stock.item_id, task__status=TaskStatus.PLANNED)
        .select_related("task")
        .order_by("-task_id", "-id")
    )
    lockable = set(
        SupplyTask.objects.filter(pk__in={leg.task_id for leg in legs})
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    released = 0
    for leg in legs:
        if released >= amount:
            break
        if leg.task_id not in lockable:
            continue
        task = leg.task
        task.unsourced_quantity += leg.quantity
        task.promised_at = None
        task.replan_count += 1
        task.save(update_fields=["unsourced_quantity", "promised_at", "replan_count"])
        stock.reserved -= leg.quantity
        released += leg.quantity
        leg.delete()
    return released


# --- The lifecycle: planned → dispatched → delivered → received; cancelled -----------------------------


def _locked_task(task_id: int) -> SupplyTask:
    task = SupplyTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None:
        raise ApplicationError(_("This supply task no longer exists."), code="not_found", status_code=404)
    return task


def _require(task: SupplyTask, *allowed: str) -> None:
    if task.status not in allowed:
        raise ApplicationError(
            _("This supply task is %(status)s.") % {"status": TaskStatus(task.status).label}, code="wrong_status"
        )


def _locked_depot_stock(task: SupplyTask) -> tuple[list[Leg], dict[int, Stock]]:
    legs = list(task.legs.filter(depot__isnull=False).order_by("depot_id"))
    depot_ids = sorted({leg.depot_id for leg in legs})
    list(Depot.objects.filter(pk__in=depot_ids).order_by("id").select_for_update())
    stocks = {
        stock.depot_id: stock
        for stock in Stock.objects.filter(depot_id__in=depot_ids, item_id=task.item_id)
        .order_by("id")
        .select_for_update()
    }
    return legs, stocks


def _set_status(task: SupplyTask, status: str, *, actor: User | None, **fields) -> SupplyTask:
    task.status = status
    for name, value in fields.items():
        setattr(task, name, value)
    task.save(update_fields=["status", *fields])
    Request.objects.filter(task=task).exclude(status=RequestStatus.CANCELLED).update(status=status)
    audit_record(
        actor=actor, action=f"supply_task.{status}", object_type="supply.SupplyTask", object_id=task.pk, details=None
    )
    board_changed(task_ids=[task.pk])
    return task


@transaction.atomic
def supply_task_dispatch(*, task_id: int, actor: User | None) -> SupplyTask:
    """The goods leave the depots: the reserved stock is taken off the shelves."""
    task = _locked_task(task_id)
    _require(task, TaskStatus.PLANNED)
    if task.unsourced_quantity:
        raise ApplicationError(_("Part of this task has no stock or supplier yet."), code="not_sourced")
    legs, stocks = _locked_depot_stock(task)
    for leg in legs:
        stock = stocks[leg.depot_id]
        stock.on_hand -= leg.quantity
        stock.reserved -= leg.quantity
        stock.save(update_fields=["on_hand", "reserved", "updated_at"])
    _set_status(task, TaskStatus.DISPATCHED, actor=actor, dispatched_at=timezone.now())
    item = task.item
    with translation.override(settings.LANGUAGE_CODE):
        notification_create(
            shelter_id=task.shelter_id,
            kind=NotificationKind.SUPPLY,
            title=_("Supplies on their way: %(item)s × %(quantity)s %(unit)s")
            % {"item": item.name, "quantity": task.quantity, "unit": item.unit},
            body=_("Expected by %(time)s. Confirm the quantity received on the supplies page.")
            % {"time": _format_time(task.promised_at)}
            if task.promised_at
            else "",
        )
    return task


@transaction.atomic
def supply_task_deliver(*, task_id: int, actor: User | None) -> SupplyTask:
    task = _locked_task(task_id)
    _require(task, TaskStatus.DISPATCHED)
    return _set_status(task, TaskStatus.DELIVERED, actor=actor, delivered_at=timezone.now())


@transaction.atomic
def supply_task_receive(*, task_id: int, quantity: int, actor: User) -> SupplyTask:
    """The shelter counts what arrived. Anything short is requested again and planned anew."""
    task = _locked_task(task_id)
    _require(task, TaskStatus.DISPATCHED, TaskStatus.DELIVERED)
    if quantity < 0 or quantity > task.quantity:
        raise ApplicationError(_("Enter a quantity between 0 and %(max)s.") % {"max": task.quantity}, field="quantity")
    now = timezone.now()
    _set_status(
        task,
        TaskStatus.RECEIVED,
        actor=actor,
        received_at=now,
        received_quantity=quantity,
        delivered_at=task.delivered_at or now,
    )
    short = task.quantity - quantity
    if short:
        urgencies = Request.objects.filter(task=task).values_list("urgency", flat=True)
        request_create(
            shelter=task.shelter,
            item=task.item,
            actor=actor,
            quantity=short,
            urgency=min(urgencies, key=lambda u: URGENCY_RANK[u], default=Urgency.NORMAL),
            detail=_("Rest of a short delivery (task %(key)s)") % {"key": task.key},
            origin=RequestOrigin.SHORT_DELIVERY,
            source=task.source,
        )
    return task


@transaction.atomic
def supply_task_cancel(*, task_id: int, actor: User | None) -> SupplyTask:
    """Call off a task not yet dispatched: its reservations go back, its requests are cancelled."""
    task = _locked_task(task_id)
    _require(task, TaskStatus.PLANNED)
    _release_all(task)
    _set_status(task, TaskStatus.CANCELLED, actor=actor, cancelled_at=timezone.now())
    Request.objects.filter(task=task).update(status=RequestStatus.CANCELLED)
    return task


def _release_all(task: SupplyTask) -> None:
    legs, stocks = _locked_depot_stock(task)
    for leg in legs:
        stock = stocks[leg.depot_id]
        stock.reserved -= leg.quantity
        stock.save(update_fields=["reserved", "updated_at"])
    task.legs.all().delete()


# --- Overdue tasks --------------------------------------------------------------------------------------


@dataclass
class OverdueResult:
    flagged: list[int] = field(default_factory=list)
    replanned: list[int] = field(default_factory=list)


def supply_check_overdue(*, now: datetime | None = None) -> OverdueResult:
    """Flag tasks past their promised time and alert HQ; a task that never left re-plans its date."""
    now = now or timezone.now()
    result = OverdueResult()
    with transaction.atomic():
        late = list(
            SupplyTask.objects.filter(
                status__in=[TaskStatus.PLANNED, TaskStatus.DISPATCHED], promised_at__lt=now
            ).select_for_update(skip_locked=True)
        )
        for task in late:
            if task.overdue_since is None:
                task.overdue_since = now
                result.flagged.append(task.pk)
            if task.status == TaskStatus.PLANNED:
                # It missed its date without leaving the depot: give its slots back and plan again.
                _release_all(task)
                task.unsourced_quantity = task.quantity
                task.promised_at = None
                task.replan_count += 1
                result.replanned.append(task.pk)
            task.save(update_fields=["overdue_since", "unsourced_quantity", "promised_at", "replan_count"])
        if result.flagged:
            data = {"tasks": sorted(result.flagged), "count": len(result.flagged)}
            transaction.on_commit(
                lambda: broadcast.send(event_type=SUPPLY_OVERDUE, streams=[broadcast.CITY_STREAM], data=data),
                robust=True,
            )
    if result.replanned:
        _resource_waiting_tasks(now=now, result=PlanResult())
    return result


def stock_totals() -> dict[int, dict[str, int]]:
    """Per item: on hand, reserved (for the board and the benchmark's checks)."""
    return {
        row["item_id"]: {"on_hand": row["on_hand"] or 0, "reserved": row["reserved"] or 0}
        for row in Stock.objects.values("item_id").annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    }


# --- The catalogue, depots and suppliers, edited in the admin -------------------------------------

CATALOGUE_MODELS = {"item": Item, "depot": Depot, "supplier": Supplier}


@transaction.atomic
def supply_catalogue_edit(*, kind: str, object_id: int | None, actor: User | None, write: Callable[[], object]):
    """Create or change an item, a depot or a supplier with its lead times; returns the row.

    The admin's validated forms are the `write` (a supplier comes with rows of lead times, which
    Django's inline forms already check); this service owns the rest. A depot is locked first, as
    the planner locks depots, so a planning run never sees half an edit. After commit a planning
    run is queued: a new depot, more deliveries a day or a shorter lead time may serve waiting
    requests sooner.
    """
    model = CATALOGUE_MODELS.get(kind)
    if model is None:
        raise ApplicationError(_("Unknown kind of supply data."), field="kind")
    if object_id is not None and model.objects.select_for_update().filter(pk=object_id).first() is None:
        raise ApplicationError(_("Not found."), code="not_found", status_code=404)
    row = write()
    audit_record(
        actor=actor,
        action=f"supply_{kind}.{'update' if object_id is not None else 'create'}",
        object_type=f"supply.{model.__name__}",
        object_id=row.pk,
    )
    transaction.on_commit(supply_plan_soon, robust=True)
    return row
