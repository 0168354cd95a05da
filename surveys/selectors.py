"""Reads of survey data: versions and city figures. Anything tied to a person is read through
`access` (tokens and respondents: access.surveys; follow-up cases: access.follow_ups)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from access import figures
from common import limits
from supply.models import Item
from surveys.builtin import SURVEY_CODE
from surveys.models import SurveyVersion
from surveys.suppression import is_small, suppress, suppress_mean, suppress_share

if TYPE_CHECKING:  # the events' schemas: the events module reads these selectors after commit
    from surveys.events import NeedRank, SurveySummary


# --- Answering ----------------------------------------------------------------------------------


def current_version(*, survey_code: str = SURVEY_CODE) -> SurveyVersion | None:
    return SurveyVersion.objects.select_related("survey").filter(survey__code=survey_code, is_current=True).first()


def answerable_version(*, version_id, survey_code: str = SURVEY_CODE) -> SurveyVersion | None:
    """The version a form was rendered with (it may have stopped being current since), or None."""
    if not limits.is_id(str(version_id)):
        return None
    return SurveyVersion.objects.select_related("survey").filter(survey__code=survey_code, pk=version_id).first()


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
    counts = figures.survey_needs_not_received()
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
    today = figures.response_figures(start=start, end=end)
    scored = today["scored"]
    mean = suppress_mean(today["total"] or 0, scored)
    return {
        "date": timezone.localdate(now).isoformat(),
        "responses": suppress(today["responses"]),
        "scored": suppress(scored),
        "k6_13_share": suppress_share(today["serious"], scored),
        "k6_10_share": suppress_share(today["moderate"], scored),
        "k6_mean": round(mean, 1) if isinstance(mean, float) else mean,
        "needs": needs_ranking(),
    }
