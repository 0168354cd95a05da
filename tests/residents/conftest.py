"""Two residents (signed in with their City OS IDs, no role) and what the city holds about the first."""

from dataclasses import dataclass

import pytest

from shelters import services
from shelters.models import Evacuee, SupportCategory, SupportNeed, User
from tests.factories import EvacueeFactory, HouseholdFactory, UserFactory


@dataclass
class Resident:
    user: User
    person: Evacuee
    family: Evacuee


@pytest.fixture
def resident(shelter_a, hq, support_categories):
    household = HouseholdFactory(members=0)
    person = EvacueeFactory(
        city_os_id="AIZU-0001",
        name="会津 花子",
        name_kana="アイヅ ハナコ",
        phone="0242-11-2222",
        address="会津若松市東栄町1-1",
        household=household,
    )
    family = EvacueeFactory(name="会津 一郎", name_kana="アイヅ イチロウ", household=household)
    SupportNeed.objects.create(evacuee=person, category=SupportCategory.objects.order_by("id").first(), notes="杖")
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
    user = UserFactory(username="resident-aizu-0001", role="", city_os_id="AIZU-0001")
    return Resident(user=user, person=person, family=family)


@pytest.fixture
def other_resident(shelter_b, hq):
    person = EvacueeFactory(
        city_os_id="AIZU-0002", name="別所 三郎", name_kana="ベッショ サブロウ", phone="0242-99-8888"
    )
    services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[person.pk], actor=hq)
    user = UserFactory(username="resident-aizu-0002", role="", city_os_id="AIZU-0002")
    return Resident(user=user, person=person, family=person)
