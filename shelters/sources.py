"""Removing the shelters app's rows of a source (sample data, a replay): see `common.sources`.

Registered in `SheltersConfig.ready()`. It runs after every app that refers to shelters, people
or stays (their removers took away what held on to these rows), in one transaction:

1. Every shelter involved is locked first, in id order, as the stay services lock them.
2. Someone of the source still checked in at a shelter of another source is checked out through
   `stay_check_out`, so that shelter's counters, its 満員 and its live figures stay right.
3. The source's stays, check-ins left empty, people and households are deleted, with their audit
   entries. When the source's shelters go (a replay), so does every stay at them; when they stay
   (sample shelters), their counters are recounted and those nobody else uses go back to standby.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.utils import timezone

from common.models import AuditEntry
from common.sources import SourceRemoval
from shelters import events
from shelters.models import (
    CheckIn,
    Destination,
    Disaster,
    Evacuee,
    Household,
    Shelter,
    ShelterStatus,
    ShelterStatusChange,
    Stay,
)
from shelters.services import shelter_counts_recount, shelters_lock, stay_check_out


def _as_text(queryset: models.QuerySet) -> models.QuerySet:
    # AuditEntry.object_id is text; a subquery keeps thousands of ids out of the SQL parameters.
    return queryset.order_by().annotate(pk_text=Cast("pk", models.CharField())).values("pk_text")


def shelter_rows_remove(removal: SourceRemoval) -> dict[str, int]:
    source = removal.source
    shelters = Shelter.objects.filter(source=source)
    shelter_ids = set(shelters.values_list("pk", flat=True))
    people = Evacuee.objects.filter(source=source)
    households = Household.objects.filter(source=source)
    of_source = Q(source=source) | Q(evacuee__source=source)
    stays = Stay.objects.filter(of_source | Q(shelter__source=source) if removal.shelters_go else of_source)
    elsewhere = stays.filter(checked_out_at__isnull=True).exclude(shelter_id__in=shelter_ids)

    involved = shelter_ids | set(elsewhere.values_list("shelter_id", flat=True))
    shelters_lock(involved)
    for stay_id in elsewhere.values_list("pk", flat=True):
        stay_check_out(stay_id=stay_id, actor=None, destination=Destination.UNKNOWN)

    counts = {
        "shelters": len(shelter_ids) if removal.shelters_go else 0,
        "evacuees": people.count(),
        "households": households.count(),
        "stays": stays.count(),
    }
    check_in_ids = set(stays.exclude(check_in=None).values_list("check_in_id", flat=True))
    if removal.shelters_go:
        check_in_ids |= set(CheckIn.objects.filter(shelter_id__in=shelter_ids).values_list("pk", flat=True))
    AuditEntry.objects.filter(
        Q(object_type="evacuee", object_id__in=_as_text(people))
        | Q(object_type="household", object_id__in=_as_text(households))
        | Q(object_type="stay", object_id__in=_as_text(stays))
        | (
            Q(object_type="shelter", object_id__in=_as_text(shelters))
            | Q(object_type="shelter_import", object_id=source)
            if removal.shelters_go
            else Q(pk__in=[])
        )
    ).delete()

    if removal.shelters_go:
        # Someone transferred from another shelter into one of these keeps that stay, without the target.
        Stay.objects.filter(destination_shelter_id__in=shelter_ids).exclude(pk__in=stays.values("pk")).update(
            destination_shelter=None
        )
    stays.delete()
    # A check-in that also holds stays of people who remain (a mixed household) is kept.
    emptied = CheckIn.objects.filter(pk__in=check_in_ids, stays__isnull=True)
    AuditEntry.objects.filter(object_type="check_in", object_id__in=_as_text(emptied)).delete()
    emptied.delete()
    # Their records of reads and survey tokens go with them (on_delete CASCADE).
    people.delete()
    households.delete()

    if removal.shelters_go:
        shelters.delete()
    elif shelter_ids:
        _back_to_standby(shelter_ids)
    # The sample disaster goes too, unless a release was declared for it (consent's to remove first).
    counts["disasters"] = Disaster.objects.filter(source=source, releases__isnull=True).delete()[0]
    return counts


def _back_to_standby(shelter_ids: set[int]) -> None:
    """Recount kept shelters; those where nobody of another source still stays start afresh."""
    shelter_counts_recount(shelter_ids=shelter_ids, actor=None)
    still_used = set(
        Stay.objects.filter(shelter_id__in=shelter_ids, checked_out_at__isnull=True).values_list(
            "shelter_id", flat=True
        )
    )
    afresh = shelter_ids - still_used
    ShelterStatusChange.objects.filter(shelter_id__in=afresh).delete()
    AuditEntry.objects.filter(
        object_type="shelter", action="shelter.status_change", object_id__in=[str(pk) for pk in afresh]
    ).delete()
    Shelter.objects.filter(pk__in=afresh).update(
        status=ShelterStatus.STANDBY,
        opened_at=None,
        closed_at=None,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    events.shelters_changed(afresh)
