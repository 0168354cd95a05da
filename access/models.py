from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonalDataAccess(models.Model):
    """A read of a person's data, so a resident can later see who looked at it and why."""

    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    evacuee = models.ForeignKey("shelters.Evacuee", on_delete=models.CASCADE, related_name="accesses")
    purpose = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    class Meta:
        # Moved from the shelters app: the table keeps its name.
        db_table = "shelters_personaldataaccess"
        ordering = ["-at", "-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
