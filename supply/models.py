"""What shelters ask for. A request is durable here before anything plans it (the supply pipeline).

Writes go through `supply.services`.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shelters.models import DataSource


class Item(models.Model):
    """An item of the supply catalogue, in the unit it is counted in (water: 2 L bottles)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    unit = models.CharField(_("unit (Japanese)"), max_length=32)
    unit_en = models.CharField(_("unit (English)"), max_length=32)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("supply item")
        verbose_name_plural = _("supply items")

    def __str__(self) -> str:
        return self.name


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    CRITICAL = "critical", _("Critical")


class RequestStatus(models.TextChoices):
    """Open until the planner groups it into a supply task; then it follows its task."""

    OPEN = "open", _("Open")
    PLANNED = "planned", _("Planned")
    DISPATCHED = "dispatched", _("Dispatched")
    DELIVERED = "delivered", _("Delivered")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class RequestOrigin(models.TextChoices):
    SURVEY = "survey", _("Survey answer")
    MANUAL = "manual", _("Entered by shelter staff")
    SHORT_DELIVERY = "short_delivery", _("Rest of a short delivery")


class Request(models.Model):
    """A shelter's request for an item, for a person or for the whole shelter."""

    shelter = models.ForeignKey("shelters.Shelter", on_delete=models.PROTECT, related_name="supply_requests")
    evacuee = models.ForeignKey(
        "shelters.Evacuee", on_delete=models.SET_NULL, null=True, blank=True, related_name="supply_requests"
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="requests")
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(_("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    origin = models.CharField(_("origin"), max_length=16, choices=RequestOrigin.choices)
    survey_response = models.ForeignKey(
        "surveys.Response", on_delete=models.PROTECT, null=True, blank=True, related_name="supply_requests"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=16, choices=DataSource.choices, default=DataSource.REAL)
    # Set by the planner, in the transaction that creates the task: a request is in one task at most.
    task = models.ForeignKey(
        "supply.SupplyTask", on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("supply request")
        verbose_name_plural = _("supply requests")
        indexes = [
            models.Index(fields=["status", "shelter", "item"], name="request_open_by_shelter_item"),
            # The planner's and the sweep's question: which requests still wait for a plan?
            models.Index(fields=["id"], condition=Q(status="open"), name="request_waiting_for_plan"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0), name="request_quantity_positive"
            ),
            # Re-processing a survey response never files its needs twice.
            models.UniqueConstraint(
                fields=["survey_response", "item"],
                condition=Q(survey_response__isnull=False),
                name="request_once_per_response_item",
            ),
        ]

    @property
    def planned_quantity(self) -> int:
        """What the planner counts for this request: a need answered without a number counts as one."""
        return self.quantity or 1


# --- Where supplies come from --------------------------------------------------------------------


class Depot(models.Model):
    """A stockpile warehouse (備蓄倉庫): where it is, and how many deliveries it can send out a day."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    dispatches_per_day = models.PositiveIntegerField(_("deliveries per day"), default=20)
    dispatch_opens = models.TimeField(_("first dispatch"), default=datetime.time(8, 0))
    dispatch_closes = models.TimeField(_("last dispatch"), default=datetime.time(18, 0))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("depot")
        verbose_name_plural = _("depots")
        constraints = [
            models.CheckConstraint(condition=Q(dispatches_per_day__gt=0), name="depot_dispatches_positive"),
            models.CheckConstraint(
                condition=Q(dispatch_closes__gt=models.F("dispatch_opens")), name="depot_dispatch_hours_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DepotDay(models.Model):
    """How many of a depot's dispatch slots on one day are taken (slots are handed out in order)."""

    depot = models.ForeignKey(Depot, on_delete=models.CASCADE, related_name="days")
    day = models.DateField(_("day"))
    next_slot = models.PositiveIntegerField(_("next free slot"), default=0)

    class Meta:
        verbose_name = _("depot day")
        verbose_name_plural = _("depot days")
        constraints = [models.UniqueConstraint(fields=["depot", "day"], name="depot_day_once")]


class Stock(models.Model):
    """How much of an item a depot holds, and how much of that is promised to planned tasks."""

    depot = models.ForeignKey(Depot, on_delete=models.CASCADE, related_name="stock")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["depot", "item"]
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        constraints = [
            models.UniqueConstraint(fields=["depot", "item"], name="stock_once_per_depot_item"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Supplier(models.Model):
    """A company HQ buys from when the depots run short."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return self.name


class SupplierItem(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="suppliers")
    lead_time_hours = models.PositiveIntegerField(_("lead time (hours)"))

    class Meta:
        verbose_name = _("supplier item")
        verbose_name_plural = _("supplier items")
        constraints = [models.UniqueConstraint(fields=["supplier", "item"], name="supplier_item_once")]


# --- Supply tasks -----------------------------------------------------------------------------------


class TaskStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DISPATCHED = "dispatched", _("Dispatched")
    DELIVERED = "delivered", _("Delivered")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class SupplyTask(models.Model):
    """One delivery of one item to one shelter, made of the requests the planner grouped.

    `key` is derived from the requests it was planned from (shelter, item, lowest request id), so a
    planning run that is repeated after a crash can never make a second task for the same requests.
    """

    key = models.CharField(_("key"), max_length=64, unique=True)
    shelter = models.ForeignKey("shelters.Shelter", on_delete=models.PROTECT, related_name="supply_tasks")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="tasks")
    quantity = models.PositiveIntegerField(_("quantity"))
    # Neither depot stock nor a supplier could cover this much yet; a stock change re-plans it.
    unsourced_quantity = models.PositiveIntegerField(_("not yet sourced"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.PLANNED)
    promised_at = models.DateTimeField(_("promised delivery"), null=True, blank=True, db_index=True)
    planned_at = models.DateTimeField(_("planned at"))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_quantity = models.PositiveIntegerField(_("quantity received"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True)
    replan_count = models.PositiveIntegerField(_("times re-planned"), default=0)
    source = models.CharField(_("source"), max_length=16, choices=DataSource.choices, default=DataSource.REAL)

    class Meta:
        ordering = ["promised_at", "id"]
        verbose_name = _("supply task")
        verbose_name_plural = _("supply tasks")
        indexes = [models.Index(fields=["status", "promised_at"], name="task_by_status_due")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="task_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unsourced_quantity__lte=models.F("quantity")), name="task_unsourced_within_quantity"
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Leg(models.Model):
    """Part of a task's quantity from one depot (reserved there) or bought from one supplier."""

    task = models.ForeignKey(SupplyTask, on_delete=models.CASCADE, related_name="legs")
    depot = models.ForeignKey(Depot, on_delete=models.PROTECT, null=True, blank=True, related_name="legs")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="legs")
    quantity = models.PositiveIntegerField(_("quantity"))
    dispatch_at = models.DateTimeField(_("dispatch at"), db_index=True)
    arrive_at = models.DateTimeField(_("arrives at"))
    distance_km = models.FloatField(_("distance (km)"))

    class Meta:
        ordering = ["arrive_at", "id"]
        verbose_name = _("delivery leg")
        verbose_name_plural = _("delivery legs")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="leg_quantity_positive"),
            models.CheckConstraint(
                condition=(Q(depot__isnull=False) & Q(supplier__isnull=True))
                | (Q(depot__isnull=True) & Q(supplier__isnull=False)),
                name="leg_from_depot_or_supplier",
            ),
        ]
