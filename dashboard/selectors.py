"""What the dashboards show: snapshots for the live streams and history for the charts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from access import figures, people
from realtime import broadcast
from shelters.events import replay_state
from shelters.models import Shelter, SupportCategory, User
from shelters.selectors import shelter_states
from surveys import selectors as survey_selectors
from surveys.suppression import suppress

HISTORY_POINTS = 240


def categories() -> list[dict]:
    return [
        {"code": c.code, "name": c.name, "name_en": c.name_en}
        for c in SupportCategory.objects.filter(active=True).order_by("sort_order", "code")
    ]


def city_snapshot() -> dict:
    """Every shelter's figures. The caller reads the stream's sequence number first."""
    return {
        "shelters": shelter_states(shelters=Shelter.objects.all()),
        "replay": replay_state(),
        "surveys": survey_selectors.city_survey_summary(),
    }


def support_list(*, user: User, shelter_id: int, purpose: str = "socket.support_list") -> list[dict] | None:
    """Residents of a shelter needing support, with names, for those who may see them; else None."""
    return people.support_list(user=user, shelter_id=shelter_id, purpose=purpose)


def shelter_snapshot(*, user: User, shelter_id: int, purpose: str = "socket.shelter_snapshot") -> dict:
    """A shelter's figures and notifications; for its managers and HQ the lists with names, logged
    with `purpose` (the page passes its own)."""
    states = shelter_states(shelter_ids=[shelter_id])
    from notifications.models import Notification

    notifications = Notification.objects.filter(shelter_id=shelter_id).order_by("-created_at", "-id")[:50]
    follow_ups = survey_selectors.shelter_follow_ups(user=user, shelter_id=shelter_id, purpose=purpose)
    open_count = survey_selectors.open_follow_up_counts(shelter_ids=[shelter_id]).get(shelter_id, 0)
    return {
        "shelters": states,
        "support_list": support_list(user=user, shelter_id=shelter_id, purpose=purpose),
        "notifications": [n.as_event_data() for n in notifications],
        # The list with names for those who may see them; the others get the suppressed count only.
        "follow_ups": follow_ups,
        "open_follow_ups": open_count if follow_ups is not None else suppress(open_count),
    }


def snapshot_message(*, stream: str, data: dict, seq: int) -> dict:
    return {"type": "snapshot", "stream": stream, "seq": seq, "data": data}


def current_seq(stream: str) -> int:
    return broadcast.sequences().current(stream)


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
    """People inside over time, with arrivals and departures per bucket, rebuilt from the stays."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    start, arrivals, departures = figures.stays_inside_between(shelter_ids=shelter_ids, since=since, now=now)
    bucket = _bucket_size(now - since)
    count = int((now - since) / bucket) + 1
    arrived = [0] * count
    left = [0] * count
    for moment in arrivals:
        arrived[int((moment - since) / bucket)] += 1
    for moment in departures:
        left[int((moment - since) / bucket)] += 1
    occupancy, level = [], start
    for index in range(count):
        level += arrived[index] - left[index]
        occupancy.append(level)
    times = [since + bucket * (index + 1) for index in range(count)]
    return Series(times=times, occupancy=occupancy, arrivals=arrived, departures=left)
