"""Who may see and do what. Every page, API view and (later) WebSocket consumer asks here.

All reads of personal data go through the querysets below, so that the resident's consent rules
(a later issue) are added in one place. A view never decides by itself who may see a name.

The rules today:
- HQ staff and system administrators see every shelter and every person, and operate everywhere.
- A shelter manager operates only the shelters assigned to them. They see the people staying at
  (or supported by) those shelters, and people with no open stay anywhere, because those are the
  people who may walk up to their desk; they never see who is in another shelter.
- City officials see shelters and aggregate figures, never a person.
"""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from shelters.models import (
    Evacuee,
    Household,
    PersonalDataAccess,
    Role,
    Shelter,
    Stay,
    User,
)


def role_of(user) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return user.role or None


def is_headquarters(user) -> bool:
    return role_of(user) in (Role.HQ, Role.ADMIN)


def is_staff_member(user) -> bool:
    """Anyone with a role may use the site at all."""
    return role_of(user) is not None


def may_see_personal_data(user) -> bool:
    return role_of(user) in (Role.HQ, Role.ADMIN, Role.MANAGER)


def managed_shelter_ids(user) -> set[int]:
    if role_of(user) != Role.MANAGER:
        return set()
    cached = getattr(user, "_managed_shelter_ids", None)
    if cached is None:
        cached = set(user.managed_shelters.values_list("id", flat=True))
        user._managed_shelter_ids = cached
    return cached


def shelters_visible_to(user) -> QuerySet[Shelter]:
    """Shelters whose registry entry and figures the user may see."""
    role = role_of(user)
    if role in (Role.HQ, Role.ADMIN, Role.OFFICIAL):
        return Shelter.objects.all()
    if role == Role.MANAGER:
        return Shelter.objects.filter(id__in=managed_shelter_ids(user))
    return Shelter.objects.none()


def can_operate_shelter(user, shelter: Shelter | int) -> bool:
    """Check people in and out, change the shelter's status, see its residents."""
    if is_headquarters(user):
        return True
    shelter_id = shelter if isinstance(shelter, int) else shelter.pk
    return shelter_id in managed_shelter_ids(user)


def operated_shelters(user) -> QuerySet[Shelter]:
    if is_headquarters(user):
        return Shelter.objects.all()
    return Shelter.objects.filter(id__in=managed_shelter_ids(user))


def evacuees_visible_to(user) -> QuerySet[Evacuee]:
    if is_headquarters(user):
        return Evacuee.objects.all()
    if role_of(user) != Role.MANAGER:
        return Evacuee.objects.none()
    open_stays = Stay.objects.filter(evacuee=OuterRef("pk"), checked_out_at__isnull=True)
    return Evacuee.objects.filter(
        Exists(open_stays.filter(shelter_id__in=managed_shelter_ids(user))) | ~Exists(open_stays)
    )


def can_view_evacuee(user, evacuee: Evacuee) -> bool:
    return evacuees_visible_to(user).filter(pk=evacuee.pk).exists()


def stays_visible_to(user) -> QuerySet[Stay]:
    if is_headquarters(user):
        return Stay.objects.all()
    if role_of(user) != Role.MANAGER:
        return Stay.objects.none()
    return Stay.objects.filter(shelter_id__in=managed_shelter_ids(user))


def households_visible_to(user) -> QuerySet[Household]:
    if is_headquarters(user):
        return Household.objects.all()
    if role_of(user) != Role.MANAGER:
        return Household.objects.none()
    return Household.objects.filter(
        Q(Exists(evacuees_visible_to(user).filter(household=OuterRef("pk")))) | Q(members__isnull=True)
    ).distinct()


def record_personal_data_access(*, viewer: User, evacuees: Iterable[Evacuee], purpose: str) -> None:
    """Log that `viewer` looked at these people's details."""
    now = timezone.now()
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(viewer=viewer, evacuee=evacuee, purpose=purpose, at=now) for evacuee in evacuees
    )


# --- Live dashboards ----------------------------------------------------------------------------


def can_watch_city(user) -> bool:
    """The city-wide dashboard: figures for every shelter, no names."""
    return role_of(user) in (Role.HQ, Role.ADMIN, Role.OFFICIAL)


def can_watch_shelter(user, shelter_id: int) -> bool:
    return can_watch_city(user) or shelter_id in managed_shelter_ids(user)


def may_see_names_at(user, shelter_id: int) -> bool:
    """Names on a shelter's dashboard: its own managers and HQ, never officials."""
    return may_see_personal_data(user) and can_operate_shelter(user, shelter_id)


# --- Supplies ---------------------------------------------------------------------------------------


def can_run_supplies(user) -> bool:
    """HQ plans, dispatches and cancels supply tasks and keeps the depots' stock."""
    return is_headquarters(user)


def can_watch_supplies(user) -> bool:
    """The HQ supply board shows figures per shelter, item and depot, never a person."""
    return role_of(user) in (Role.HQ, Role.ADMIN, Role.OFFICIAL)


def can_request_supplies(user, shelter: Shelter | int) -> bool:
    """File and follow a shelter's requests, and confirm what arrived there."""
    return can_operate_shelter(user, shelter)
