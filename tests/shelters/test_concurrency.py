"""The stay invariants under real concurrency: separate threads, separate PostgreSQL connections.

These run on PostgreSQL only (CI points DATABASE_URL at it): SQLite serialises every writer, so
it cannot show that the row locks and partial unique indexes do their job. That CI really runs
them is checked by tests/test_settings.py's test on DATABASE_URL, which a skip cannot hide.
"""

from collections import Counter

import pytest
from django.conf import settings

from common.errors import ApplicationError
from shelters import services
from shelters.models import CheckIn, Shelter, Stay, StayMode
from tests.concurrency import run_together
from tests.factories import EvacueeFactory, ShelterFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
]


def assert_occupancy_matches_open_stays():
    for shelter in Shelter.objects.all():
        inside = Stay.objects.filter(shelter=shelter, checked_out_at__isnull=True, mode=StayMode.INSIDE).count()
        outside = (
            Stay.objects.filter(shelter=shelter, checked_out_at__isnull=True).exclude(mode=StayMode.INSIDE).count()
        )
        assert (shelter.occupancy, shelter.outside_count) == (inside, outside), shelter.code


def test_two_desks_checking_one_person_into_two_shelters_at_once_make_one_stay(hq):
    shelter_a, shelter_b = ShelterFactory(), ShelterFactory()
    person = EvacueeFactory()

    results = run_together(
        *[
            (lambda shelter=shelter: services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[person.pk], actor=hq))
            for shelter in [shelter_a, shelter_b] * 3
        ]
    )

    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"CheckInResult": 1, "ApplicationError": 5}
    assert all(r.code == "already_checked_in" for r in results if isinstance(r, ApplicationError))
    assert Stay.objects.filter(evacuee=person, checked_out_at__isnull=True).count() == 1
    assert_occupancy_matches_open_stays()


def test_retries_of_one_request_racing_each_other_make_one_check_in(hq):
    shelter = ShelterFactory()
    household = EvacueeFactory.create_batch(3)
    ids = [p.pk for p in household]

    results = run_together(
        *[
            lambda: services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=ids, actor=hq, idempotency_key="retry-1")
            for _ in range(6)
        ]
    )

    assert all(isinstance(r, services.CheckInResult) for r in results), results
    assert len({tuple(sorted(s.pk for s in r.stays)) for r in results}) == 1
    assert [r.replayed for r in results].count(False) == 1
    assert CheckIn.objects.count() == 1
    assert Stay.objects.count() == 3
    assert_occupancy_matches_open_stays()


def test_occupancy_equals_open_stays_after_a_storm_of_check_ins_check_outs_and_transfers(hq):
    shelters = [ShelterFactory(capacity=15), ShelterFactory(capacity=15), ShelterFactory(capacity=None)]
    people = EvacueeFactory.create_batch(48)

    def desk(index):
        mine = people[index::6]
        for n, person in enumerate(mine):
            shelter = shelters[(index + n) % len(shelters)]
            mode = StayMode.IN_CAR if n % 5 == 0 else StayMode.INSIDE
            stay = services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[person.pk], actor=hq, mode=mode).stays[0]
            if n % 3 == 0:
                services.stay_check_out(stay_id=stay.pk, actor=hq, destination="home")
            elif n % 3 == 1:
                target = shelters[(index + n + 1) % len(shelters)]
                services.stay_transfer(stay_id=stay.pk, to_shelter_id=target.pk, actor=hq)
        return len(mine)

    results = run_together(*[lambda i=i: desk(i) for i in range(6)])

    assert results == [8] * 6, results
    assert_occupancy_matches_open_stays()
    assert Stay.objects.filter(checked_out_at__isnull=True).count() == sum(
        1 for i in range(6) for n in range(8) if n % 3 != 0
    )


def test_the_database_itself_refuses_a_second_open_stay(hq):
    from django.db import IntegrityError
    from django.utils import timezone

    shelter = ShelterFactory()
    person = EvacueeFactory()
    Stay.objects.create(evacuee=person, shelter=shelter, checked_in_at=timezone.now())

    with pytest.raises(IntegrityError):
        Stay.objects.create(evacuee=person, shelter=shelter, checked_in_at=timezone.now())
