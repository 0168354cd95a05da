"""Who may do what: roles and shelters, never a person. Every page, API view and consumer asks here.

This module holds the rules; it reads no personal data. The querysets of people, stays,
households, follow-ups, survey tokens and supply requests live beside it in `access` (people.py,
follow_ups.py, surveys.py, supply_requests.py), which are the only code that filters them and the
only code that records a read (log.py).

The rules:
- HQ staff and system administrators see every shelter and every person, and operate everywhere.
- A shelter manager operates only the shelters assigned to them and sees the people staying at (or
  supported by) those shelters. A person who stays nowhere they find only by an exact lookup (see
  `access.people.exact_lookup`), never by browsing; they never see who is in another shelter, nor
  where a person went after leaving theirs.
- City officials see shelters and aggregate figures, never a person.
- Survey follow-up (residents whose K6 was 13 or more): HQ staff and administrators see and handle
  every case; a shelter manager those of the shelters they operate; officials none (they see
  suppressed aggregates only, see surveys/suppression.py). A case follows its person when they move.
"""

from django.db.models import QuerySet

from common.roles import Role, is_headquarters, role_of
from shelters.models import Shelter


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


def managed_shelters_subquery(user) -> QuerySet:
    """The ids of the shelters a manager manages as a subquery, for a statement that must not be
    preceded by another (the lean check-in): `shelter_id__in=managed_shelters_subquery(user)`."""
    return Shelter.managers.through.objects.filter(user_id=user.pk).values("shelter_id")


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


def at_operated_shelters(user, rows: QuerySet, *, shelter_field: str = "shelter_id") -> QuerySet:
    """The rows at shelters the user operates: all for HQ, a manager's own shelters', none for others.

    The one scope of stays, follow-up cases and supply requests (access/), and of shelters themselves.
    """
    if is_headquarters(user):
        return rows
    if role_of(user) != Role.MANAGER:
        return rows.none()
    return rows.filter(**{f"{shelter_field}__in": managed_shelter_ids(user)})


def operated_shelters(user) -> QuerySet[Shelter]:
    return at_operated_shelters(user, Shelter.objects.all(), shelter_field="id")


# --- Live dashboards ----------------------------------------------------------------------------


def can_watch_city(user) -> bool:
    """The city-wide dashboard: figures for every shelter, no names."""
    return role_of(user) in (Role.HQ, Role.ADMIN, Role.OFFICIAL)


def can_watch_shelter(user, shelter_id: int) -> bool:
    return can_watch_city(user) or shelter_id in managed_shelter_ids(user)


def may_see_names_at(user, shelter_id: int) -> bool:
    """Names on a shelter's dashboard: its own managers and HQ, never officials."""
    return may_see_personal_data(user) and can_operate_shelter(user, shelter_id)


# --- Survey imports -----------------------------------------------------------------------------


def can_import_survey_responses(user) -> bool:
    """Upload Qualtrics/KoBo files: HQ anywhere, managers into their own shelters; officials never."""
    return is_headquarters(user) or role_of(user) == Role.MANAGER


def survey_imports_visible_to(user):
    """Import jobs the user may follow: HQ all, a manager their own uploads."""
    from surveys.models import SurveyImport

    if is_headquarters(user):
        return SurveyImport.objects.all()
    if role_of(user) == Role.MANAGER:
        return SurveyImport.objects.filter(uploaded_by=user)
    return SurveyImport.objects.none()


# --- Surveys ------------------------------------------------------------------------------------


def can_run_surveys_at(user, shelter: Shelter | int) -> bool:
    """Print a shelter's survey poster and enter answers for its residents: its managers and HQ."""
    return may_see_personal_data(user) and can_operate_shelter(user, shelter)


# --- Survey follow-up ---------------------------------------------------------------------------


def may_handle_follow_ups(user) -> bool:
    """See a follow-up list at all: HQ, administrators and shelter managers; never officials."""
    return role_of(user) in (Role.HQ, Role.ADMIN, Role.MANAGER)


# --- Survey reports -----------------------------------------------------------------------------


def can_view_reports(user) -> bool:
    """The survey reports (/reports/): HQ, administrators and officials city-wide; managers their own shelters."""
    return role_of(user) in (Role.HQ, Role.ADMIN, Role.OFFICIAL, Role.MANAGER)


def report_shelter_scope(user) -> set[int] | None:
    """Shelters a user's reports may cover: None for every shelter, else the managed ones."""
    if role_of(user) == Role.MANAGER:
        return managed_shelter_ids(user)
    return None


def reports_suppressed_for(user) -> bool:
    """Officials see small cells hidden ("<5"); HQ, administrators and a shelter's own managers,
    who may see the people themselves, see exact figures."""
    return role_of(user) not in (Role.HQ, Role.ADMIN, Role.MANAGER)


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


# --- Residents ----------------------------------------------------------------------------------


def may_use_own_page(user) -> bool:
    """The resident's own page (/me/): anyone signed in with a City OS ID, staff included; it shows
    only the data the city holds under that ID (access/residents.py)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and getattr(user, "city_os_id", None))


def is_resident_only(user) -> bool:
    """Signed in with a City OS ID and no role: their own pages are all they may use."""
    return may_use_own_page(user) and role_of(user) is None


def may_handle_corrections(user) -> bool:
    """Residents' requests to correct their data: HQ and administrators, who may correct anyone."""
    return is_headquarters(user)


# --- Retention ------------------------------------------------------------------------------------


def can_hold_personal_data(user) -> bool:
    """Put a person's data under a legal hold against anonymisation, or lift it: HQ and administrators."""
    return is_headquarters(user)


# --- Disasters and legal-basis releases ---------------------------------------------------------


def can_manage_disasters(user) -> bool:
    """Declare and close disasters, declare and revoke legal-basis releases: HQ and administrators."""
    return is_headquarters(user)


def can_view_releases(user) -> bool:
    """See that releases exist (rule, article, scope, period), never whom they touched: HQ,
    administrators and officials."""
    return role_of(user) in (Role.HQ, Role.ADMIN, Role.OFFICIAL)
