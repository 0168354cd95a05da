"""The counters under real concurrency (PostgreSQL, separate connections): check-ins, check-outs,
transfers and changes of support needs racing on the same people and shelters leave every
shelter's figures equal to counting its people, and no statement deadlocks."""

import random

import pytest
from django.conf import settings

from common.errors import ApplicationError
from shelters import services
from shelters.models import Destination, Shelter, Stay
from tests.concurrency import run_together
from tests.factories import EvacueeFactory, ShelterFactory
from tests.shelters.test_counters import counted, kept

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
]

NEEDS = [{}, {"elderly": ""}, {"wheelchair": "", "elderly": ""}, {"pregnant": ""}]


def _open_stay(person_id: int) -> int | None:
    return Stay.objects.filter(evacuee_id=person_id, checked_out_at__isnull=True).values_list("pk", flat=True).first()


def test_racing_moves_and_changes_of_needs_keep_every_counter_exact(hq, support_categories):
    shelters = [ShelterFactory(capacity=1000) for _ in range(3)]
    people = [EvacueeFactory() for _ in range(12)]
    rng = random.Random(12)
    for person in people[:8]:
        services.stay_check_in(shelter_id=rng.choice(shelters).pk, evacuee_ids=[person.pk], actor=hq)

    def action(seed: int):
        choose = random.Random(seed)
        person = choose.choice(people)
        kind = choose.choice(["check_in", "check_out", "transfer", "needs", "needs", "listed"])
        try:
            if kind == "check_in":
                services.stay_check_in(shelter_id=choose.choice(shelters).pk, evacuee_ids=[person.pk], actor=hq)
            elif kind == "needs":
                services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"support_needs": choose.choice(NEEDS)})
            elif kind == "listed":
                services.evacuee_update(
                    evacuee_id=person.pk, actor=hq, changes={"requires_evacuation_support": choose.random() < 0.5}
                )
            elif (stay_id := _open_stay(person.pk)) is not None:
                if kind == "check_out":
                    services.stay_check_out(stay_id=stay_id, actor=hq, destination=Destination.HOME)
                else:
                    services.stay_transfer(stay_id=stay_id, to_shelter_id=choose.choice(shelters).pk, actor=hq)
        except ApplicationError as error:
            return error.code  # staying elsewhere, already out, already there: refused cleanly
        return kind

    for round_ in range(6):
        outcomes = run_together(*[(lambda seed=round_ * 100 + i: action(seed)) for i in range(8)])
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes

    for shelter in Shelter.objects.all():
        assert kept(shelter) == counted(shelter), shelter.code
