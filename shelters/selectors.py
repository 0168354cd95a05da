"""Reads for pages and the API. Personal data is only ever read from `policy`'s querysets."""

import json
import re
from urllib.parse import parse_qs, urlparse

from django.db.models import Count, Prefetch, Q, QuerySet

from access import policy
from shelters.models import (
    Evacuee,
    Shelter,
    ShelterStatus,
    ShelterStatusChange,
    Stay,
    StayMode,
    SupportCategory,
    SupportNeed,
    User,
)

_PHONE_DIGITS = re.compile(r"\D")


def qr_payload_to_id(payload: str) -> str:
    """The City OS ID inside a scanned QR payload, or the text itself.

    Accepts a bare ID, `CITYOS:<id>`, a URL with `?id=` (or `cityos_id=`), or JSON with `id`.
    """
    text = payload.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        return str(data.get("id") or data.get("city_os_id") or text).strip()
    if text.lower().startswith("cityos:"):
        return text.split(":", 1)[1].strip()
    if text.startswith(("http://", "https://")):
        query = parse_qs(urlparse(text).query)
        for key in ("id", "cityos_id", "city_os_id"):
            if query.get(key):
                return query[key][0].strip()
    return text


def evacuee_search(*, user: User, query: str, limit: int = 30) -> QuerySet[Evacuee]:
    """People the user may see, matched by name, kana, phone, City OS ID or walk-in ID."""
    text = query.strip()
    if not text:
        return Evacuee.objects.none()
    identifier = qr_payload_to_id(text)
    condition = (
        Q(name__icontains=text)
        | Q(name_kana__icontains=text)
        | Q(city_os_id__iexact=identifier)
        | Q(walk_in_id__iexact=identifier)
    )
    digits = _PHONE_DIGITS.sub("", text)
    if len(digits) >= 4:
        condition |= Q(phone_digits__contains=digits)
    return evacuees_with_details(policy.evacuees_visible_to(user).filter(condition))[:limit]


def evacuees_with_details(queryset: QuerySet[Evacuee]) -> QuerySet[Evacuee]:
    """Everything a list of people shows, in a fixed number of queries."""
    return queryset.select_related("household").prefetch_related(
        Prefetch("support_needs", queryset=SupportNeed.objects.select_related("category")),
        Prefetch(
            "stays",
            queryset=Stay.objects.filter(checked_out_at__isnull=True).select_related("shelter"),
            to_attr="open_stays",
        ),
    )


def evacuee_get(*, user: User, evacuee_id: int, purpose: str) -> Evacuee | None:
    """One person's details, logged as a view of personal data. None when not visible."""
    evacuee = evacuees_with_details(policy.evacuees_visible_to(user)).filter(pk=evacuee_id).first()
    if evacuee is not None:
        policy.record_personal_data_access(viewer=user, evacuees=[evacuee], purpose=purpose)
    return evacuee


def evacuee_stay_history(*, evacuee: Evacuee) -> QuerySet[Stay]:
    return evacuee.stays.select_related("shelter", "destination_shelter").order_by("-checked_in_at", "-id")


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


def support_counts_by_shelter(*, shelter_ids) -> dict[int, dict[str, int]]:
    """Aggregate 要配慮 counts per shelter and category among open stays: no personal data."""
    rows = (
        SupportNeed.objects.filter(
            evacuee__stays__checked_out_at__isnull=True, evacuee__stays__shelter_id__in=list(shelter_ids)
        )
        .values("evacuee__stays__shelter_id", "category__code")
        .annotate(people=Count("evacuee", distinct=True))
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["evacuee__stays__shelter_id"], {})[row["category__code"]] = row["people"]
    return counts


def support_people_by_shelter(*, shelter_ids) -> dict[int, int]:
    """How many people in each shelter need some support (要配慮 or 避難行動要支援者)."""
    rows = (
        Stay.objects.filter(checked_out_at__isnull=True, shelter_id__in=list(shelter_ids))
        .filter(Q(evacuee__support_needs__isnull=False) | Q(evacuee__requires_evacuation_support=True))
        .values("shelter_id")
        .annotate(people=Count("evacuee", distinct=True))
    )
    return {row["shelter_id"]: row["people"] for row in rows}


def shelter_status_history(*, shelter: Shelter, limit: int = 50) -> QuerySet[ShelterStatusChange]:
    return shelter.status_changes.select_related("changed_by").order_by("-changed_at", "-id")[:limit]


def shelter_residents(
    *,
    user: User,
    shelter: Shelter,
    query: str = "",
    support_category: str = "",
    mode: str = "",
    needs_support_only: bool = False,
) -> QuerySet[Stay]:
    """Open stays at a shelter the user operates, with each person's badges."""
    stays = policy.stays_visible_to(user).filter(shelter=shelter, checked_out_at__isnull=True)
    if mode in StayMode.values:
        stays = stays.filter(mode=mode)
    if support_category:
        stays = stays.filter(evacuee__support_needs__category__code=support_category)
    if needs_support_only:
        stays = stays.filter(
            Q(evacuee__support_needs__isnull=False) | Q(evacuee__requires_evacuation_support=True)
        ).distinct()
    if query:
        stays = stays.filter(
            Q(evacuee__name__icontains=query)
            | Q(evacuee__name_kana__icontains=query)
            | Q(evacuee__city_os_id__iexact=query)
            | Q(evacuee__walk_in_id__iexact=query)
        )
    return (
        stays.select_related("evacuee", "evacuee__household")
        .prefetch_related(Prefetch("evacuee__support_needs", queryset=SupportNeed.objects.select_related("category")))
        .order_by("evacuee__household_id", "evacuee__name_kana", "id")
    )


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


def shelter_states(*, shelter_ids=None, shelters: QuerySet[Shelter] | None = None) -> list[dict]:
    """Each shelter's live figures (a `ShelterState`): no personal data, fine for officials."""
    if shelters is None:
        shelters = Shelter.objects.filter(pk__in=list(shelter_ids))
    shelters = list(shelters.order_by("code"))
    ids = [s.pk for s in shelters]
    support_counts = support_counts_by_shelter(shelter_ids=ids)
    support_people = support_people_by_shelter(shelter_ids=ids)
    states = []
    for shelter in shelters:
        people = support_people.get(shelter.pk, 0)
        states.append(
            {
                "id": shelter.pk,
                "name": shelter.name,
                "status": shelter.status,
                "status_label": str(ShelterStatus(shelter.status).label),
                "kind": shelter.kind,
                "source": shelter.source,
                "capacity": shelter.capacity,
                "occupancy": shelter.occupancy,
                "outside_count": shelter.outside_count,
                "latitude": float(shelter.latitude) if shelter.latitude is not None else None,
                "longitude": float(shelter.longitude) if shelter.longitude is not None else None,
                "support_counts": support_counts.get(shelter.pk, {}),
                "support_people": people,
                "alerts": shelter_alerts(
                    status=shelter.status,
                    capacity=shelter.capacity,
                    occupancy=shelter.occupancy,
                    outside_count=shelter.outside_count,
                    support_people=people,
                ),
                "version": shelter.version,
            }
        )
    return states
