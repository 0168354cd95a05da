"""The planner's arithmetic over tables of cases: distances, travel, dispatch slots, promised times,
and the order in which depots give up stock."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from supply import planning

TOKYO = ZoneInfo("Asia/Tokyo")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("a", "b", "expected_km"),
    [
        ((37.4947, 139.9299), (37.4947, 139.9299), 0.0),
        # One degree of latitude is about 111.2 km anywhere.
        ((37.0, 139.9), (38.0, 139.9), 111.19),
        # Aizuwakamatsu city hall to Kitakata city hall, about 17 km apart.
        ((37.4947, 139.9299), (37.6513, 139.8747), 18.1),
    ],
)
def test_distance_is_the_great_circle_distance(a, b, expected_km):
    assert planning.distance_km(*a, *b) == pytest.approx(expected_km, abs=0.1)


@pytest.mark.parametrize(
    ("distance", "speed", "detour", "loading", "expected"),
    [
        (0, 30, 130, 30, timedelta(minutes=30)),
        (30, 30, 100, 0, timedelta(hours=1)),
        (30, 30, 130, 0, timedelta(hours=1.3)),
        (10, 40, 120, 15, timedelta(minutes=15 + 18)),
    ],
)
def test_travel_time_is_loading_plus_the_road_distance_at_the_road_speed(distance, speed, detour, loading, expected):
    assert (
        planning.travel_time(distance, road_speed_kmh=speed, detour_percent=detour, loading_minutes=loading) == expected
    )


def test_a_road_speed_of_zero_is_refused():
    with pytest.raises(ValueError):
        planning.travel_time(1, road_speed_kmh=0)


# A depot dispatching 10 a day from 08:00 to 18:00: one slot an hour, 08:00 ... 17:00.
@pytest.mark.parametrize(
    ("now", "taken", "expected_slot", "expected_index"),
    [
        ("2026-11-24T06:00", {}, "2026-11-24T08:00", 0),
        ("2026-11-24T08:00", {}, "2026-11-24T08:00", 0),
        ("2026-11-24T06:00", {"2026-11-24": 3}, "2026-11-24T11:00", 3),
        # Slots already past today are never handed out.
        ("2026-11-24T12:30", {}, "2026-11-24T13:00", 5),
        ("2026-11-24T12:30", {"2026-11-24": 2}, "2026-11-24T13:00", 5),
        ("2026-11-24T12:30", {"2026-11-24": 7}, "2026-11-24T15:00", 7),
        # A full day, or a day already over, moves to the next morning.
        ("2026-11-24T06:00", {"2026-11-24": 10}, "2026-11-25T08:00", 0),
        ("2026-11-24T17:30", {}, "2026-11-25T08:00", 0),
        ("2026-11-24T06:00", {"2026-11-24": 10, "2026-11-25": 10, "2026-11-26": 4}, "2026-11-26T12:00", 4),
    ],
)
def test_the_next_dispatch_slot_respects_the_daily_capacity_and_hours(now, taken, expected_slot, expected_index):
    slot = planning.next_dispatch_slot(
        now=at(now),
        opens=time(8),
        closes=time(18),
        per_day=10,
        next_index=lambda day: taken.get(day.isoformat(), 0),
        tz=TOKYO,
    )
    assert (slot.at, slot.index) == (at(expected_slot), expected_index)


def test_a_utc_now_is_read_in_the_depots_time_zone():
    # 23:30 UTC is 08:30 the next day in Tokyo.
    slot = planning.next_dispatch_slot(
        now=datetime(2026, 11, 23, 23, 30, tzinfo=ZoneInfo("UTC")),
        opens=time(8),
        closes=time(18),
        per_day=10,
        next_index=lambda day: 0,
        tz=TOKYO,
    )
    assert slot.at == at("2026-11-24T09:00")


@pytest.mark.parametrize(
    ("now", "lead_hours", "travel", "expected"),
    [
        ("2026-11-24T10:00", 0, timedelta(0), "2026-11-24T10:00"),
        ("2026-11-24T10:00", 24, timedelta(hours=2), "2026-11-25T12:00"),
        ("2026-11-24T22:00", 48, timedelta(minutes=45), "2026-11-26T22:45"),
    ],
)
def test_a_supplier_delivers_after_its_lead_time_and_the_journey(now, lead_hours, travel, expected):
    assert planning.supplier_arrival(now=at(now), lead_time_hours=lead_hours, travel=travel) == at(expected)


S = planning.Source


@pytest.mark.parametrize(
    ("demand", "sources", "taken", "remaining"),
    [
        (10, [S("far", 20, 100), S("near", 5, 100)], [("near", 10)], 0),
        (10, [S("far", 20, 100), S("near", 5, 4)], [("near", 4), ("far", 6)], 0),
        (10, [S("near", 5, 0), S("far", 20, 100)], [("far", 10)], 0),
        (10, [S("a", 5, 3), S("b", 6, 3)], [("a", 3), ("b", 3)], 4),
        (10, [], [], 10),
        (0, [S("a", 5, 3)], [], 0),
        # Equal distances: the lower key first, so a plan is always the same.
        (5, [S("b", 5, 10), S("a", 5, 10)], [("a", 5)], 0),
        (5, [S("a", 5, -2), S("b", 9, 10)], [("b", 5)], 0),
    ],
)
def test_allocation_takes_the_nearest_depot_with_stock_first_and_splits(demand, sources, taken, remaining):
    assert planning.allocate(demand, sources) == (taken, remaining)


def test_a_task_is_promised_when_its_last_leg_arrives():
    assert planning.promised_time([at("2026-11-24T10:00"), at("2026-11-25T09:00")]) == at("2026-11-25T09:00")
    assert planning.promised_time([]) is None
