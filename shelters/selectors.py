"""Reads for pages and the API: shelters and their figures. People, stays and households are read
through `access.people`, which checks who may see them and records the read."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from access import policy
from access.consent import current_context
from access.people import people_to_ask
from consent import asking
from consent.models import subject_of
from shelters.models import (
    Disaster,
    Evacuee,
    Shelter,
    ShelterStatus,
    ShelterStatusChange,
    SupportCategory,
    User,
)


def shelter_list(*, user: User, status: str | None = None, query: str = "") -> QuerySet[Shelter]:
    shelters = policy.shelters_visible_to(user)
    if status:
        shelters = shelters.filter(status=status)
    if query:
        shelters = shelters.filter(
            Q(name__icontains=query)
            | Q(name_kana__icontains=query)
            | Q(code__iexact=query)
            | Q(district__icontains=query)
        )
    return shelters.order_by("code")


def shelter_totals(shelters: QuerySet[Shelter]) -> dict:
    return {
        "shelters": len(shelters),
        "open": sum(1 for s in shelters if s.status in (ShelterStatus.OPEN, ShelterStatus.FULL)),
        "occupancy": sum(s.occupancy for s in shelters),
        "outside": sum(s.outside_count for s in shelters),
        "capacity": sum(s.capacity or 0 for s in shelters if s.status in (ShelterStatus.OPEN, ShelterStatus.FULL)),
    }


def shelter_status_history(*, shelter: Shelter, limit: int | None = 50) -> QuerySet[ShelterStatusChange]:
    """The newest first; `limit=None` for all of them (the API pages through them)."""
    changes = shelter.status_changes.select_related("changed_by").order_by("-changed_at", "-id")
    return changes if limit is None else changes[:limit]


def support_categories() -> QuerySet[SupportCategory]:
    return SupportCategory.objects.filter(active=True).order_by("sort_order", "code")


def transfer_targets(*, exclude_shelter_id: int | None = None) -> QuerySet[Shelter]:
    """Shelters accepting people, by name only: what a transfer form needs, nothing personal."""
    shelters = Shelter.objects.filter(status__in=[ShelterStatus.OPEN, ShelterStatus.FULL]).only(
        "id", "name", "status", "occupancy", "capacity"
    )
    if exclude_shelter_id:
        shelters = shelters.exclude(pk=exclude_shelter_id)
    return shelters.order_by("name")


# --- Live state ----------------------------------------------------------------------------------

NEARLY_FULL_RATIO = 0.9
MANY_NEEDING_SUPPORT = 10
MANY_NEEDING_SUPPORT_RATIO = 0.25


def shelter_alerts(
    *, status: str, capacity: int | None, occupancy: int, outside_count: int, support_people: int
) -> list[str]:
    """What HQ must look at: nearly full, full, closed with people inside, many needing support."""
    alerts = []
    if status == ShelterStatus.FULL or (capacity and occupancy >= capacity and status != ShelterStatus.CLOSED):
        alerts.append("full")
    elif capacity and occupancy >= NEARLY_FULL_RATIO * capacity and status == ShelterStatus.OPEN:
        alerts.append("nearly_full")
    if status == ShelterStatus.CLOSED and occupancy + outside_count > 0:
        alerts.append("closed_with_people")
    if support_people >= MANY_NEEDING_SUPPORT or (
        occupancy >= 8 and support_people >= MANY_NEEDING_SUPPORT_RATIO * occupancy
    ):
        alerts.append("many_needing_support")
    return alerts


# A ShelterState's columns: what shelter_states reads and an UPDATE … RETURNING of the counters
# hands back (services/counters.py).
STATE_COLUMNS = (
    "id",
    "code",
    "name",
    "status",
    "kind",
    "source",
    "capacity",
    "occupancy",
    "outside_count",
    "latitude",
    "longitude",
    "support_people",
    "support_counts",
    "version",
)


def state_of(shelter, *, labels: Mapping[str, str] | None = None) -> dict:
    """A shelter's live figures (a `ShelterState`) from its row: a Shelter, or the mapping of
    STATE_COLUMNS an UPDATE … RETURNING handed back. No personal data. `labels`: the statuses'
    labels in the active language, when the caller has them already (many shelters)."""
    values = shelter if isinstance(shelter, Mapping) else {column: getattr(shelter, column) for column in STATE_COLUMNS}
    latitude, longitude = values["latitude"], values["longitude"]
    support_counts = {code: people for code, people in (values["support_counts"] or {}).items() if people}
    status = values["status"]
    return {
        "id": values["id"],
        "name": values["name"],
        "status": status,
        "status_label": labels[status] if labels is not None else str(ShelterStatus(status).label),
        "kind": values["kind"],
        "source": values["source"],
        "capacity": values["capacity"],
        "occupancy": values["occupancy"],
        "outside_count": values["outside_count"],
        "latitude": float(latitude) if latitude is not None else None,
        "longitude": float(longitude) if longitude is not None else None,
        "support_counts": support_counts,
        "support_people": values["support_people"],
        "alerts": shelter_alerts(
            status=status,
            capacity=values["capacity"],
            occupancy=values["occupancy"],
            outside_count=values["outside_count"],
            support_people=values["support_people"],
        ),
        "version": values["version"],
    }


def shelter_states(*, shelter_ids=None, shelters: QuerySet[Shelter] | None = None) -> list[dict]:
    """Each shelter's live figures (a `ShelterState`), from its counters: one query, whatever the
    number of people; rows as tuples, not model instances (at 3,050 shelters building the instances
    was half the time). No personal data, fine for officials."""
    if shelters is None:
        shelters = Shelter.objects.filter(pk__in=list(shelter_ids))
    labels = {status: str(label) for status, label in ShelterStatus.choices}
    rows = shelters.order_by("code").values_list(*STATE_COLUMNS)
    return [state_of(dict(zip(STATE_COLUMNS, row, strict=True)), labels=labels) for row in rows]


# --- The desk's questions (consent/asking.py) ---------------------------------------------------


@dataclass(frozen=True)
class PersonQuestions:
    person: Evacuee  # as the access layer showed it: the name withheld where it has no basis
    subject: str
    questions: list


def desk_questions(*, user, shelter_id: int, evacuee_ids: list[int], purpose: str) -> list[PersonQuestions]:
    """The questions the desk asks each person now staying at the shelter, by their own timing;
    people with nothing to ask are left out. Names through `access.people.people_to_ask` (recorded)."""
    context = current_context()
    found = []
    for person in people_to_ask(user, shelter_id=shelter_id, evacuee_ids=evacuee_ids, purpose=purpose):
        subject = subject_of(person)
        questions = asking.questions_for(subject, asking.DESK_CATEGORIES, asking.DESK_RECIPIENTS, context)
        if questions:
            found.append(PersonQuestions(person=person, subject=subject, questions=questions))
    return found


def shelters_for_city_os() -> QuerySet[Shelter]:
    """Every shelter's registry entry and live status, for the City OS's shelter information API (no person)."""
    return Shelter.objects.order_by("pk").only(
        "pk",
        "code",
        "common_id",
        "name",
        "name_kana",
        "name_en",
        "kind",
        "status",
        "occupancy",
        "outside_count",
        "capacity",
        "latitude",
        "longitude",
        "source",
        "updated_at",
    )


def disasters_for_list(*, limit: int = 100) -> list[Disaster]:
    """Disasters, open ones first, then the newest."""
    disasters = list(Disaster.objects.select_related("declared_by").order_by("-started_at", "-id")[:limit])
    return sorted(disasters, key=lambda disaster: disaster.closed_at is not None)


def open_disasters() -> QuerySet[Disaster]:
    return Disaster.objects.filter(closed_at__isnull=True).order_by("-started_at", "-id")
