"""What shelters ask for. A request is durable here before anything plans it (the supply pipeline).

Writes go through `shelters.supply.services`.
"""

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
    OPEN = "open", _("Open")
    CANCELLED = "cancelled", _("Cancelled")


class RequestOrigin(models.TextChoices):
    SURVEY = "survey", _("Survey answer")
    MANUAL = "manual", _("Entered by shelter staff")


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

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("supply request")
        verbose_name_plural = _("supply requests")
        indexes = [models.Index(fields=["status", "shelter", "item"], name="request_open_by_shelter_item")]
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
