"""The occupancy history is counted per bucket in the database (access.figures.stays_inside_between):
the same figures as reading every stay's times, at the buckets' edges too."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard import selectors
from shelters import services
from shelters.models import StayMode
from tests.factories import EvacueeFactory, ShelterFactory

pytestmark = pytest.mark.django_db


def check_in(shelter, actor, at, mode=StayMode.INSIDE):
    person = EvacueeFactory()
    services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[person.pk], actor=actor, at=at, mode=mode)
    return shelter.stays.get(evacuee=person)


def test_arrivals_and_departures_fall_in_their_bucket_at_its_edges(hq):
    shelter, elsewhere = ShelterFactory(capacity=None), ShelterFactory(capacity=None)
    now = timezone.now().replace(microsecond=0)
    since = now - timedelta(hours=1)  # one hour: one-minute buckets, 61 of them
    check_in(shelter, hq, since - timedelta(hours=3))  # inside before the window: the start
    left_before = check_in(shelter, hq, since - timedelta(hours=2))
    services.stay_check_out(stay_id=left_before.pk, actor=hq, destination="home", at=since - timedelta(minutes=1))
    check_in(shelter, hq, since)  # the first moment of bucket 0
    check_in(shelter, hq, since + timedelta(seconds=59, microseconds=999000))  # the last of bucket 0
    edge = check_in(shelter, hq, since + timedelta(minutes=1))  # the first of bucket 1
    services.stay_check_out(stay_id=edge.pk, actor=hq, destination="home", at=since + timedelta(minutes=30))
    check_in(shelter, hq, now)  # the last bucket
    check_in(elsewhere, hq, since + timedelta(minutes=5))  # another shelter: city-wide only

    series = selectors.occupancy_history(shelter_ids=[shelter.pk], hours=1, now=now)
    city = selectors.occupancy_history(hours=1, now=now)

    assert len(series.times) == 61 and series.times[0] == since + timedelta(minutes=1)
    assert {i: n for i, n in enumerate(series.arrivals) if n} == {0: 2, 1: 1, 60: 1}
    assert {i: n for i, n in enumerate(series.departures) if n} == {30: 1}
    assert series.occupancy[0] == 3 and series.occupancy[1] == 4 and series.occupancy[30] == 3
    assert series.occupancy[-1] == 4
    assert {i: n for i, n in enumerate(city.arrivals) if n} == {0: 2, 1: 1, 5: 1, 60: 1}
    assert city.occupancy[-1] == 5


def test_people_staying_outside_are_not_counted_inside(hq):
    shelter = ShelterFactory(capacity=None)
    now = timezone.now()
    check_in(shelter, hq, now - timedelta(hours=30), mode=StayMode.IN_CAR)
    check_in(shelter, hq, now - timedelta(hours=2), mode=StayMode.IN_CAR)
    check_in(shelter, hq, now - timedelta(hours=2))

    series = selectors.occupancy_history(shelter_ids=[shelter.pk], hours=24, now=now)

    assert series.occupancy[0] == 0 and series.occupancy[-1] == 1
    assert sum(series.arrivals) == 1


def test_a_year_of_history_comes_in_days(hq):
    shelter = ShelterFactory(capacity=None)
    now = timezone.now()
    check_in(shelter, hq, now - timedelta(days=200, hours=1))

    series = selectors.occupancy_history(shelter_ids=[shelter.pk], hours=24 * 365, now=now)

    assert series.times[1] - series.times[0] == timedelta(days=1)
    assert series.arrivals[164] == 1 and series.occupancy[-1] == 1
