"""Reads of survey data. Anything tied to a person goes through `access.policy`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from access import policy
from shelters import selectors as shelter_selectors
from shelters.models import Evacuee, Shelter, User
from supply.models import Item, Request, RequestOrigin, RequestStatus
from surveys import scoring
from surveys.builtin import SURVEY_CODE
from surveys.models import FollowUp, FollowUpChange, FollowUpState, Response, SurveyToken, SurveyVersion
from surveys.suppression import is_small, suppress, suppress_mean, suppress_share

if TYPE_CHECKING:  # the events' schemas: the events module reads these selectors after commit
    from surveys.events import NeedRank, SurveySummary

# The list's state filter: open cases (anything not closed) unless asked otherwise.
OPEN = "open"
ALL = "all"


# --- Answering ----------------------------------------------------------------------------------


def current_version(*, survey_code: str = SURVEY_CODE) -> SurveyVersion | None:
    return SurveyVersion.objects.select_related("survey").filter(survey__code=survey_code, is_current=True).first()


def answerable_version(*, version_id, survey_code: str = SURVEY_CODE) -> SurveyVersion | None:
    """The version a form was rendered with (it may have stopped being current since), or None."""
    if not str(version_id).isdigit():
        return None
    return SurveyVersion.objects.select_related("survey").filter(survey__code=survey_code, pk=version_id).first()


def active_token(*, token: str) -> SurveyToken | None:
    token = token.strip().upper().replace("-", "").replace(" ", "")
    if not token:
        return None
    return SurveyToken.objects.select_related("evacuee").filter(token=token, revoked_at__isnull=True).first()


def proxy_respondents(*, user: User, shelter: Shelter) -> QuerySet[Evacuee]:
    """The residents staff may enter answers for: the shelter's current residents they may see."""
    stays = shelter_selectors.shelter_residents(user=user, shelter=shelter)
    return Evacuee.objects.filter(pk__in=stays.values("evacuee_id")).order_by("name_kana", "pk")


# --- Follow-up ----------------------------------------------------------------------------------


def follow_up_list(*, user: User, shelter_id: int | None = None, state: str = OPEN) -> QuerySet[FollowUp]:
    """The cases the user may see, with names, shelters and the history, oldest open case first."""
    follow_ups = policy.follow_ups_visible_to(user)
    if shelter_id is not None:
        follow_ups = follow_ups.filter(shelter_id=shelter_id)
    if state == OPEN:
        follow_ups = follow_ups.exclude(state=FollowUpState.CLOSED)
    elif state != ALL:
        follow_ups = follow_ups.filter(state=state)
    return (
        follow_ups.select_related("evacuee", "shelter", "response")
        .prefetch_related(
            Prefetch(
                "changes", queryset=FollowUpChange.objects.select_related("changed_by").order_by("changed_at", "id")
            )
        )
        .order_by("created_at", "id")
    )


def follow_up_get(*, user: User, follow_up_id: int, purpose: str) -> FollowUp | None:
    """One case with its history, logged as a view of the person's data. None when not visible."""
    follow_up = follow_up_list(user=user, state=ALL).filter(pk=follow_up_id).first()
    if follow_up is not None:
        policy.record_personal_data_access(viewer=user, evacuees=[follow_up.evacuee], purpose=purpose)
    return follow_up


def follow_up_shelters(*, user: User) -> QuerySet[Shelter]:
    """Shelters the user may filter the list by."""
    if not policy.may_handle_follow_ups(user):
        return Shelter.objects.none()
    return policy.operated_shelters(user).order_by("code")


def open_follow_up_counts(*, shelter_ids: Iterable[int]) -> dict[int, int]:
    """Open cases per shelter: a figure, no person."""
    shelter_ids = list(shelter_ids)
    if not shelter_ids:
        return {}
    rows = (
        FollowUp.objects.filter(shelter_id__in=shelter_ids)
        .exclude(state=FollowUpState.CLOSED)
        .values("shelter_id")
        .annotate(count=Count("id"))
    )
    return {row["shelter_id"]: row["count"] for row in rows}


def shelter_follow_ups(*, user: User, shelter_id: int) -> list[dict] | None:
    """A shelter's open cases for its dashboard, with names, for those who may see them; else None.

    Name and state only: the score is on the follow-up page, where each view is logged.
    """
    if not policy.may_see_names_at(user, shelter_id) or not policy.may_handle_follow_ups(user):
        return None
    follow_ups = (
        policy.follow_ups_visible_to(user)
        .filter(shelter_id=shelter_id)
        .exclude(state=FollowUpState.CLOSED)
        .select_related("evacuee")
        .order_by("created_at", "id")
    )
    return [
        {
            "id": follow_up.pk,
            "name": follow_up.evacuee.name,
            "name_kana": follow_up.evacuee.name_kana,
            "state": follow_up.state,
            "since": follow_up.created_at.isoformat(),
        }
        for follow_up in follow_ups
    ]


# --- City figures -------------------------------------------------------------------------------


def _today_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Midnight to midnight of `now`'s day in the site's time zone (Asia/Tokyo)."""
    start = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    return start, start + timedelta(days=1)


def needs_ranking() -> list[NeedRank]:
    """Items by the number of requests from survey answers not yet received, city-wide, suppressed.

    A need counts until the shelter confirms it arrived (or it is cancelled), not only until the
    planner gives it a date: HQ watches what is still missing.

    Shown figures come first, most requested first; items with 1 to 4 requests follow in catalogue
    order, so the order does not tell their sizes apart either.
    """
    rows = (
        Request.objects.filter(origin=RequestOrigin.SURVEY)
        .exclude(status__in=[RequestStatus.RECEIVED, RequestStatus.CANCELLED])
        .values("item_id")
        .annotate(requests=Count("id"), quantity=Sum("quantity"))
    )
    counts = {row["item_id"]: row for row in rows}
    items = Item.objects.filter(pk__in=counts.keys()).order_by("sort_order", "code")
    ranked = sorted(
        items,
        key=lambda item: (is_small(counts[item.pk]["requests"]), -counts[item.pk]["requests"]),
    )
    result: list[NeedRank] = []
    for item in ranked:
        requests = counts[item.pk]["requests"]
        quantity = counts[item.pk]["quantity"]
        result.append(
            {
                "item": item.code,
                "name": item.name,
                "name_en": item.name_en,
                "unit": item.unit,
                "unit_en": item.unit_en,
                "requests": suppress(requests),
                "quantity": None if is_small(requests) else quantity,
            }
        )
    return result


def city_survey_summary(*, now: datetime | None = None) -> SurveySummary:
    """Today's stress figures and the needs ranking, city-wide, with small cells suppressed."""
    now = now or timezone.now()
    start, end = _today_bounds(now)
    figures = Response.objects.filter(answered_at__gte=start, answered_at__lt=end).aggregate(
        responses=Count("id"),
        scored=Count("k6_score"),
        serious=Count("id", filter=Q(k6_score__gte=scoring.SERIOUS_DISTRESS)),
        moderate=Count("id", filter=Q(k6_score__gte=scoring.MODERATE_DISTRESS)),
        total=Sum("k6_score"),
    )
    scored = figures["scored"]
    mean = suppress_mean(figures["total"] or 0, scored)
    return {
        "date": timezone.localdate(now).isoformat(),
        "responses": suppress(figures["responses"]),
        "scored": suppress(scored),
        "k6_13_share": suppress_share(figures["serious"], scored),
        "k6_10_share": suppress_share(figures["moderate"], scored),
        "k6_mean": round(mean, 1) if isinstance(mean, float) else mean,
        "needs": needs_ranking(),
    }
