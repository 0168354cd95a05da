"""The planner's arithmetic, free of the database: distances, travel times, dispatch slots,
promised delivery times and the order in which depots give up their stock.

`supply.services.supply_plan_open_requests` feeds these with rows it has locked; the
tests run them over tables of cases.
"""

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

EARTH_RADIUS_KM = 6371.0088
# How far ahead the planner looks for a free dispatch slot before it gives up on a depot.
SLOT_SEARCH_DAYS = 366


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) between two points in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def travel_time(
    distance: float, *, road_speed_kmh: float, detour_percent: int = 100, loading_minutes: int = 0
) -> timedelta:
    """Loading plus driving the straight-line distance lengthened by the roads' detour."""
    if road_speed_kmh <= 0:
        raise ValueError("road speed must be positive")
    hours = distance * detour_percent / 100 / road_speed_kmh
    return timedelta(minutes=loading_minutes) + timedelta(hours=hours)


@dataclass(frozen=True)
class Slot:
    day: date
    index: int  # 0 for the day's first dispatch
    at: datetime


def next_dispatch_slot(
    *,
    now: datetime,
    opens: time,
    closes: time,
    per_day: int,
    next_index: Callable[[date], int],
    tz: tzinfo,
) -> Slot:
    """The earliest free dispatch slot at or after `now`.

    A depot sends `per_day` deliveries a day, evenly spaced from `opens` (the first) to before
    `closes`. `next_index(day)` is how many of that day's slots are already taken (they are handed
    out in order). Slots already past today are lost, never handed out in the past.
    """
    if per_day <= 0:
        raise ValueError("a depot needs at least one dispatch a day")
    local_now = now.astimezone(tz)
    day = local_now.date()
    for _ in range(SLOT_SEARCH_DAYS):
        day_opens = datetime.combine(day, opens, tzinfo=tz)
        interval = (datetime.combine(day, closes, tzinfo=tz) - day_opens) / per_day
        index = next_index(day)
        if local_now > day_opens:
            first_future = math.ceil((local_now - day_opens) / interval)
            index = max(index, first_future)
        if index < per_day:
            return Slot(day=day, index=index, at=day_opens + index * interval)
        day += timedelta(days=1)
    raise ValueError("no dispatch slot within a year")


def supplier_arrival(*, now: datetime, lead_time_hours: int, travel: timedelta) -> datetime:
    """A supplier ships after its lead time, then the goods travel to the shelter."""
    return now + timedelta(hours=lead_time_hours) + travel


@dataclass(frozen=True)
class Source:
    key: Hashable
    distance: float
    available: int


def allocate(demand: int, sources: Iterable[Source]) -> tuple[list[tuple[Hashable, int]], int]:
    """Take `demand` from the nearest sources with stock first, splitting across as many as needed.

    Returns the (source key, quantity) pairs in the order taken and the quantity left uncovered.
    Ties in distance go to the lower key, so the same inputs always give the same plan.
    """
    if demand < 0:
        raise ValueError("demand cannot be negative")
    taken: list[tuple[Hashable, int]] = []
    remaining = demand
    for source in sorted(sources, key=lambda s: (s.distance, s.key)):
        if remaining == 0:
            break
        if source.available <= 0:
            continue
        quantity = min(source.available, remaining)
        taken.append((source.key, quantity))
        remaining -= quantity
    return taken, remaining


def promised_time(arrivals: Sequence[datetime]) -> datetime | None:
    """A task is delivered when its last leg arrives."""
    return max(arrivals) if arrivals else None
