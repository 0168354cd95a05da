"""A resident's request to correct what the city holds about them, handled by HQ."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MESSAGE_MAX_LENGTH = 1000


class CorrectableField(models.TextChoices):
    NAME = "name", _("Name")
    NAME_KANA = "name_kana", _("Name (kana)")
    BIRTH_DATE = "birth_date", _("Birth date")
    SEX = "sex", _("Sex")
    ADDRESS = "address", _("Address")
    PHONE = "phone", _("Phone")
    HOUSEHOLD = "household", _("Household")
    SUPPORT = "support", _("Support needs")
    STAYS = "stays", _("Stays")
    OTHER = "other", _("Something else")


class CorrectionState(models.TextChoices):
    OPEN = "open", _("Waiting for the city")
    DONE = "done", _("Corrected")
    DECLINED = "declined", _("Not corrected")


class CorrectionRequest(models.Model):
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    evacuee = models.ForeignKey("shelters.Evacuee", on_delete=models.CASCADE, related_name="correction_requests")
    field = models.CharField(_("what to correct"), max_length=16, choices=CorrectableField.choices)
    message = models.CharField(_("what is wrong"), max_length=MESSAGE_MAX_LENGTH)
    state = models.CharField(_("state"), max_length=16, choices=CorrectionState.choices, default=CorrectionState.OPEN)
    created_at = models.DateTimeField(_("asked at"), db_index=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        constraints = [
            models.CheckConstraint(condition=Q(state__in=CorrectionState.values), name="correction_state_known"),
            models.CheckConstraint(condition=Q(field__in=CorrectableField.values), name="correction_field_known"),
            # Handled exactly when it is no longer open: who and when are never missing nor left over.
            models.CheckConstraint(
                condition=(
                    Q(state="open", handled_at__isnull=True, handled_by__isnull=True)
                    | (~Q(state="open") & Q(handled_at__isnull=False, handled_by__isnull=False))
                ),
                name="correction_handled_when_closed",
            ),
        ]

    def __str__(self) -> str:
        # Never the message: a model's str ends up in logs.
        return f"{_('correction request')} #{self.pk}"
