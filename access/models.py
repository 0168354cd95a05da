from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonalDataAccess(models.Model):
    """A read of a person's data, so a resident can later see who looked at it and why."""

    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    evacuee = models.ForeignKey("shelters.Evacuee", on_delete=models.CASCADE, related_name="accesses")
    purpose = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)
    # Shown to the resident: the reader's role and shelter (none for an office), the basis the read
    # had (consent, a legal rule's code) and, for a legal-basis release, which one.
    role = models.CharField(max_length=16, blank=True)
    shelter = models.ForeignKey("shelters.Shelter", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    basis = models.CharField(max_length=32, blank=True)
    release = models.ForeignKey(
        "consent.LegalRelease", on_delete=models.PROTECT, null=True, blank=True, related_name="accesses"
    )
    categories = models.CharField(max_length=120, blank=True)

    class Meta:
        # Moved from the shelters app: the table keeps its name.
        db_table = "shelters_personaldataaccess"
        ordering = ["-at", "-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
