"""shelters.services.city_os_check_in: the desk's one tap after a City OS scan (the people as the
City OS shares them, given as PersonData), under real concurrency on PostgreSQL."""

from collections import Counter
from datetime import date

import pytest
from django.conf import settings

from common.errors import ApplicationError
from shelters import services
from shelters.models import CheckIn, Evacuee, Household, Stay
from tests.concurrency import run_together
from tests.factories import ShelterFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
]


def family(prefix: str = "AIZU-T") -> list[services.PersonData]:
    return [
        services.PersonData(name=f"会津 {n}", birth_date=date(1980 + i, 1, 1), sex="female", city_os_id=f"{prefix}-{i}")
        for i, n in enumerate(["一郎", "花子", "空"])
    ]


def test_double_taps_racing_each_other_make_one_check_in_and_one_registration(hq):
    shelter = ShelterFactory()

    results = run_together(
        *[
            lambda: services.city_os_check_in(
                shelter_id=shelter.pk, members=family(), actor=hq, idempotency_key="tap-1"
            )
            for _ in range(4)
        ]
    )

    assert all(isinstance(r, services.CityOSCheckIn) for r in results), results
    assert [r.result.replayed for r in results].count(False) == 1
    assert CheckIn.objects.count() == 1
    assert Evacuee.objects.count() == 3 and Household.objects.count() == 1
    assert Stay.objects.filter(checked_out_at__isnull=True).count() == 3
    shelter.refresh_from_db()
    assert shelter.occupancy == 3


def test_two_desks_scanning_one_family_at_once_check_it_in_once(hq):
    shelters = [ShelterFactory(), ShelterFactory()]

    results = run_together(
        *[
            (lambda shelter=shelter: services.city_os_check_in(shelter_id=shelter.pk, members=family(), actor=hq))
            for shelter in shelters * 2
        ]
    )

    outcomes = Counter(
        "error" if isinstance(r, ApplicationError) else ("in" if r.result else "already") for r in results
    )
    assert outcomes["in"] == 1, results
    assert Evacuee.objects.count() == 3
    assert Stay.objects.filter(checked_out_at__isnull=True).count() == 3
    assert len(set(Stay.objects.values_list("shelter_id", flat=True))) == 1
