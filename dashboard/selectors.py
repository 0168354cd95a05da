"""What the dashboards show: snapshots for the live streams and history for the charts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from access import consent, figures, log, policy
from cityos import locations
from consent.rules import Context
from realtime import streams
from shelters.models import SupportCategory
from surveys import suppression

HISTORY_POINTS = 240


def categories() -> list[dict]:
    return [
        {"code": c.code, "name": c.name, "name_en": c.name_en}
        for c in SupportCategory.objects.filter(active=True).order_by("sort_order", "code")
    ]


def city_snapshot(*, user) -> dict:
    """The city stream's snapshot data, as the socket sends it (the stream is shelters', realtime/streams.py)."""
    return streams.snapshot_data("city", user=user)


def shelter_snapshot(*, user, shelter_id: int, purpose: str) -> dict:
    """A shelter stream's snapshot data, as the socket sends it to this user; the names it holds
    are recorded as read for `purpose` (the page's, not the socket's)."""
    with log.reads_for(purpose):
        return streams.snapshot_data("shelter", user=user, key=shelter_id)


# --- History ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    times: list[datetime]
    occupancy: list[int]
    arrivals: list[int]
    departures: list[int]


def _bucket_size(span: timedelta) -> timedelta:
    for minutes in (1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440):
        if span / timedelta(minutes=minutes) <= HISTORY_POINTS:
            return timedelta(minutes=minutes)
    return timedelta(days=1)


def occupancy_history(*, shelter_ids: list[int] | None = None, hours: int = 48, now: datetime | None = None) -> Series:
    """People inside over time, with arrivals and departures per bucket, rebuilt from the stays
    (counted per bucket in the database: access.figures.stays_inside_between)."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    bucket = _bucket_size(now - since)
    count = int((now - since) / bucket) + 1
    start, arrivals, departures = figures.stays_inside_between(
        shelter_ids=shelter_ids, since=since, now=now, bucket_seconds=int(bucket.total_seconds())
    )
    arrived = [arrivals.get(index, 0) for index in range(count)]
    left = [departures.get(index, 0) for index in range(count)]
    occupancy, level = [], start
    for index in range(count):
        level += arrived[index] - left[index]
        occupancy.append(level)
    times = [since + bucket * (index + 1) for index in range(count)]
    return Series(times=times, occupancy=occupancy, arrivals=arrived, departures=left)


# The key of the total in the suppression's table of area counts: no area code is empty.
_TOTAL = ""


@dataclass(frozen=True)
class AreaRow:
    name: str
    count: int | str  # a count, or "<5" / "x" where officials see a small cell hidden


@dataclass(frozen=True)
class OutsideAreas:
    available: bool
    rows: list[AreaRow]
    total: int | str
    as_of: datetime | None


def outside_areas(user) -> OutsideAreas | None:
    """During a disaster: residents outside the shelters who share their location, counted per area
    by the City OS (cityos.locations; the page waits CITYOS_LOCATION_WAIT_SECONDS at most). None in
    peacetime, when nobody's location is counted.

    HQ, whom the residents allowed, sees every count. Officials see the counts under the small-cell
    rule of the survey figures (surveys.suppression): 1 to 4 people in an area is "<5", and when one
    area alone would be hidden another is too ("x"), so the total cannot give it back: an area with
    one person sharing their location is close to that person's position."""
    if consent.current_context() != Context.DISASTER:
        return None
    counts = locations.area_counts()
    if not counts.available:
        return OutsideAreas(available=False, rows=[], total=0, as_of=None)
    shown: dict = {area.code: area.count for area in counts.areas}
    total: int | str = counts.total
    if policy.reports_suppressed_for(user):
        values = {**shown, _TOTAL: counts.total}
        primary, complementary = suppression.protect(values, [suppression.Line(list(shown), _TOTAL)])
        hidden = {key: suppression.SMALL for key in primary} | {key: suppression.HIDDEN for key in complementary}
        shown = {code: hidden.get(code, count) for code, count in shown.items()}
        total = hidden.get(_TOTAL, counts.total)
    return OutsideAreas(
        available=True,
        rows=[AreaRow(name=area.name or area.code, count=shown[area.code]) for area in counts.areas],
        total=total,
        as_of=counts.as_of,
    )
