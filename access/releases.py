"""Legal-basis releases as the residents they touched see them.

"Touched" means read under the release: the reads recorded with it (access/log.py writes the
release a read was based on into `PersonalDataAccess.release`). A release that covered a person
nobody looked at touched nobody, and is not shown to them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min

from access.models import PersonalDataAccess
from consent.models import LegalRelease


@dataclass(frozen=True)
class ReleaseTouching:
    release: LegalRelease
    first_read_at: datetime
    last_read_at: datetime
    reads: int


def releases_touching(evacuee_ids: Iterable[int]) -> list[ReleaseTouching]:
    """The releases under which these people's data was read (a resident's own page), newest first."""
    ids = [i for i in evacuee_ids if i is not None]
    if not ids:
        return []
    rows = (
        PersonalDataAccess.objects.filter(evacuee_id__in=ids, release__isnull=False)
        .values("release_id")
        .annotate(first=Min("at"), last=Max("at"), reads=Count("id"))
        .order_by()
    )
    found = {row["release_id"]: row for row in rows}
    releases = LegalRelease.objects.filter(pk__in=found).select_related("disaster").order_by("-declared_at", "-id")
    return [
        ReleaseTouching(
            release=release,
            first_read_at=found[release.pk]["first"],
            last_read_at=found[release.pk]["last"],
            reads=found[release.pk]["reads"],
        )
        for release in releases
    ]


def people_read_under(release_ids: Iterable[int]) -> dict[int, int]:
    """How many distinct people were read under each release (a figure for HQ's list, no person)."""
    rows = (
        PersonalDataAccess.objects.filter(release_id__in=list(release_ids))
        .values("release_id")
        .annotate(people=Count("evacuee_id", distinct=True))
        .order_by()
    )
    return {row["release_id"]: row["people"] for row in rows}
