"""Events about surveys, sent after the transaction that stored the answers commits.

`response_submit` calls `responses_stored(shelter_ids)` and the follow-up services call
`follow_ups_changed(shelter_ids)`. However many answers one transaction stores (an import stores
hundreds), the city gets one summary and each shelter whose follow-up list changed one event, read
after commit. Event types and their data:

- `surveys.summary` on the city stream: {"surveys": SurveySummary}. Aggregates only, small cells
  suppressed (surveys/suppression.py): officials watch the city stream.
- `follow_ups.changed` on a shelter's stream: {"follow_ups": FollowUpCount}. Never a name nor a
  score: officials may watch a shelter's stream. Sockets allowed to see names fetch the list
  themselves when this arrives (the `follow_up_list` named list, surveys/streams.py).
"""

import time
from typing import TypedDict

from access import figures
from realtime import broadcast, catalogue, coalesce
from surveys.suppression import suppress


class NeedRank(TypedDict):
    item: str
    name: str
    name_en: str
    unit: str
    unit_en: str
    requests: int | str  # "<5" when 1 to 4
    quantity: int | None  # total asked for; None when not asked or when `requests` is suppressed


class SurveySummary(TypedDict):
    date: str  # today in Asia/Tokyo, ISO
    responses: int | str  # today's responses, "<5" when 1 to 4
    scored: int | str  # of which with all six K6 items answered
    k6_13_share: float | str | None  # share of scored with K6 >= 13 (0..1), "<5", or None
    k6_10_share: float | str | None
    k6_mean: float | str | None
    needs: list[NeedRank]  # requests from survey answers not yet received, most asked first


class FollowUpCount(TypedDict):
    shelter: int
    open: int | str  # open follow-ups at the shelter, "<5" when 1 to 4


class SurveysSummary(TypedDict):
    surveys: SurveySummary


class FollowUpsChanged(TypedDict):
    follow_ups: FollowUpCount


SURVEYS_SUMMARY = catalogue.register(
    "surveys.summary", SurveysSummary, streams=("city",), description="Today's survey figures, small cells suppressed."
)
FOLLOW_UPS_CHANGED = catalogue.register(
    "follow_ups.changed",
    FollowUpsChanged,
    streams=("shelter",),
    description="A shelter's open follow-up count (suppressed); the named list is fetched apart.",
)


class _Pending:
    """What one transaction changed, sent once when it commits."""

    def __init__(self):
        self.summary = False
        self.follow_up_shelters: set[int] = set()


def responses_stored(shelter_ids) -> None:
    """Answers were stored at these shelters: the city summary goes out once, after commit."""
    _note(summary=True)


def follow_ups_changed(shelter_ids) -> None:
    """These shelters' follow-up lists changed: one event per shelter goes out after commit."""
    _note(follow_up_shelters=shelter_ids)


def consent_changed_heard(change) -> None:
    """A resident's consent or a release changed (consent.services): the follow-up lists of the
    shelters where they stay are fetched again by the dashboards showing them, after commit."""
    from access.figures import shelters_where_staying

    follow_ups_changed(shelters_where_staying(subjects=change.subjects, everyone=change.everyone))


def _note(*, summary: bool = False, follow_up_shelters=()) -> None:
    pending = coalesce.collector("_pending_survey_events", factory=_Pending, send=_send)
    now = pending is None
    pending = pending or _Pending()
    pending.summary = pending.summary or summary
    pending.follow_up_shelters.update(follow_up_shelters)
    if now:
        _send(pending)


def _send(pending: _Pending) -> None:
    committed_at = time.time() * 1000
    # selectors import models; keep this module light for the services that import it
    from surveys import selectors

    if pending.summary:
        broadcast.send(
            event_type=SURVEYS_SUMMARY,
            streams=[broadcast.CITY_STREAM],
            data={"surveys": selectors.city_survey_summary()},
            committed_at=committed_at,
        )
    counts = figures.open_follow_up_counts(shelter_ids=pending.follow_up_shelters)
    for shelter_id in sorted(pending.follow_up_shelters):
        count: FollowUpCount = {"shelter": shelter_id, "open": suppress(counts.get(shelter_id, 0))}
        broadcast.send(
            event_type=FOLLOW_UPS_CHANGED,
            streams=[broadcast.shelter_stream(shelter_id)],
            data={"follow_ups": count},
            committed_at=committed_at,
        )
