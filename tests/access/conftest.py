"""A small world for the access tests: a resident of shelter A with a household, a follow-up case
and a supply request naming them, and a person who stays nowhere."""

from dataclasses import dataclass

import pytest
from django.utils import timezone

from residents.models import CorrectionRequest
from shelters import services
from shelters.models import Evacuee, Stay
from supply import services as supply_services
from supply.models import Item, Request
from surveys.models import FollowUp
from tests.factories import EvacueeFactory, HouseholdFactory
from tests.surveys.follow_up_helpers import k6_answers, submit


@dataclass
class World:
    resident: Evacuee  # staying at shelter A
    stay: Stay
    follow_up: FollowUp
    request: Request
    nowhere: Evacuee  # staying nowhere


@pytest.fixture
def people(hq, manager_a, manager_b, official):
    return {"hq": hq, "manager_a": manager_a, "manager_b": manager_b, "official": official, "anonymous": None}


@pytest.fixture
def world(shelter_a, shelter_b, hq):
    household = HouseholdFactory(members=0)
    resident = EvacueeFactory(
        name="避難 花子", name_kana="ヒナン ハナコ", household=household, requires_evacuation_support=True
    )
    stay = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[resident.pk], actor=hq).stays[0]
    submit(shelter_a, k6_answers(18), respondent=resident)
    request = supply_services.request_create(
        shelter=shelter_a, item=Item.objects.get(code="water"), actor=hq, quantity=2, evacuee=resident
    )
    nowhere = EvacueeFactory(name="来訪 次郎", name_kana="ライホウ ジロウ", phone="0242-55-0001")
    # A request to correct the resident's record, for HQ's list of them.
    CorrectionRequest.objects.create(
        requester=hq, evacuee=resident, field="phone", message="番号が違います", created_at=timezone.now()
    )
    return World(
        resident=resident,
        stay=stay,
        follow_up=FollowUp.objects.get(evacuee=resident),
        request=request,
        nowhere=nowhere,
    )
