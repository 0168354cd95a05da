"""The sandbox's residents and what each allowed (the opt-in). Their attributes are the sample file's."""

from django.conf import settings
from django.db import models

from cityos.client import CATEGORIES, CONTEXTS, DECISIONS, RECIPIENTS, TIMINGS


def _choices(values):
    return [(value, value) for value in values]


class SampleResident(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sample_resident")
    city_os_id = models.CharField(max_length=64, unique=True)
    timing = models.CharField(max_length=16, choices=_choices(TIMINGS), default="every_time")
    updated_at = models.DateTimeField(null=True, blank=True)


class ConsentDecision(models.Model):
    resident = models.ForeignKey(SampleResident, on_delete=models.CASCADE, related_name="decisions")
    category = models.CharField(max_length=16, choices=_choices(CATEGORIES))
    recipient = models.CharField(max_length=16, choices=_choices(RECIPIENTS))
    context = models.CharField(max_length=16, choices=_choices(CONTEXTS))
    decision = models.CharField(max_length=8, choices=_choices(DECISIONS))
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "category", "recipient", "context"], name="sandbox_one_decision_per_cell"
            )
        ]
