"""The consent ledger.

A resident is keyed by a subject: `cityos:<common ID>` for anyone the City OS knows (so what they
set before any disaster, on their page or at the City OS, applies the moment a desk checks them
in), else `person:<evacuee id>` for a walk-in without the app (`subject_of`).
"""

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from consent.rules import Category, Context, Decision, Method, Recipient, ReleaseScope, Timing

SUBJECT_LENGTH = 80


_CITY_OS = "cityos:"
_PERSON = "person:"


def subject_of(person) -> str:
    """The ledger's key for an evacuee (anything with `city_os_id` and `pk`)."""
    if person.city_os_id:
        return subject_of_city_os_id(person.city_os_id)
    return f"{_PERSON}{person.pk}"


def subject_of_city_os_id(city_os_id: str) -> str:
    return f"{_CITY_OS}{city_os_id}"


def people_of_subjects(subjects: Iterable[str]) -> tuple[list[str], list[int]]:
    """The City OS IDs and evacuee ids some subjects name: `subject_of` read backwards."""
    city_os_ids, person_ids = [], []
    for subject in subjects:
        if subject.startswith(_CITY_OS):
            city_os_ids.append(subject.removeprefix(_CITY_OS))
        elif subject.startswith(_PERSON) and subject.removeprefix(_PERSON).isdigit():
            person_ids.append(int(subject.removeprefix(_PERSON)))
    return city_os_ids, person_ids


class ConsentSubject(models.Model):
    """A resident as the ledger knows them: when they want to be asked, and the last City OS sync."""

    key = models.CharField(max_length=SUBJECT_LENGTH, unique=True)
    timing = models.CharField(_("when to ask"), max_length=16, choices=Timing.choices, default=Timing.NEW_DATA)
    timing_set = models.BooleanField(default=False)
    city_os_synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("consent subject")
        verbose_name_plural = _("consent subjects")

    def __str__(self) -> str:
        return f"{_('consent subject')} #{self.pk}"


class ConsentRecord(models.Model):
    """One change to a resident's consents: the receipt they can download (after ISO/IEC TS 27560)."""

    receipt_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.CharField(max_length=SUBJECT_LENGTH, db_index=True)
    at = models.DateTimeField(db_index=True)
    method = models.CharField(_("how collected"), max_length=16, choices=Method.choices)
    # Staff who asked at the desk, or the resident themselves on their page; none for a City OS sync.
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # [{"category", "recipient", "context", "decision": given|refused|not_asked, "was": ...}]
    changes = models.JSONField(default=list)
    timing = models.CharField(max_length=16, choices=Timing.choices, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")

    def __str__(self) -> str:
        return f"{_('consent record')} {self.receipt_id}"


class ConsentDecision(models.Model):
    """The resident's current decision for one cell; a cell without a row is "not asked"."""

    subject = models.CharField(max_length=SUBJECT_LENGTH)
    category = models.CharField(max_length=16, choices=Category.choices)
    recipient = models.CharField(max_length=16, choices=Recipient.choices)
    context = models.CharField(max_length=16, choices=Context.choices)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    decided_at = models.DateTimeField()
    record = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("consent decision")
        verbose_name_plural = _("consent decisions")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "category", "recipient", "context"], name="one_decision_per_cell"
            ),
            models.CheckConstraint(condition=Q(category__in=Category.values), name="decision_category_known"),
            models.CheckConstraint(condition=Q(recipient__in=Recipient.values), name="decision_recipient_known"),
            models.CheckConstraint(condition=Q(context__in=Context.values), name="decision_context_known"),
            models.CheckConstraint(condition=Q(decision__in=Decision.values), name="decision_known"),
        ]

    def __str__(self) -> str:
        return f"{_('consent decision')} #{self.pk}"


class LegalRelease(models.Model):
    """A disclosure HQ declared under a legal rule, for a disaster, a scope and a time limit.

    Active from `declared_at` until `expires_at` or `revoked_at`, whichever comes first, and only
    while its disaster is open: nothing needs to run for it to stop.
    """

    disaster = models.ForeignKey("shelters.Disaster", on_delete=models.PROTECT, related_name="releases")
    rule = models.CharField(_("legal rule"), max_length=32)
    article = models.CharField(_("article"), max_length=200)
    categories = models.JSONField(_("categories"), default=list)
    recipients = models.JSONField(_("recipients"), default=list)
    scope = models.CharField(_("whom it covers"), max_length=16, choices=ReleaseScope.choices)
    shelters = models.ManyToManyField("shelters.Shelter", blank=True, related_name="+", verbose_name=_("shelters"))
    reason = models.CharField(_("reason"), max_length=500)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(_("declared at"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set by the beat job once the release has ended, so the end is audited once.
    ended_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-declared_at", "-id"]
        verbose_name = _("legal-basis release")
        verbose_name_plural = _("legal-basis releases")
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("declared_at")), name="release_expires_after_declared"),
            models.CheckConstraint(condition=Q(scope__in=ReleaseScope.values), name="release_scope_known"),
        ]

    def __str__(self) -> str:
        return f"{_('legal-basis release')} #{self.pk}"
