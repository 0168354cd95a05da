from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    SUPPLY = "supply", _("Supplies")
    SURVEY = "survey", _("Survey")
    SYSTEM = "system", _("System")


class Notification(models.Model):
    """A message for a shelter's dashboard: a promised delivery date, a survey follow-up..."""

    shelter = models.ForeignKey("shelters.Shelter", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        # Moved from the dashboard app: the table keeps its name.
        db_table = "dashboard_notification"
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def as_event_data(self) -> dict:
        return {
            "id": self.pk,
            "shelter": self.shelter_id,
            "kind": self.kind,
            "kind_label": str(NotificationKind(self.kind).label),
            "title": self.title,
            "body": self.body,
            "created_at": self.created_at.isoformat(),
        }
