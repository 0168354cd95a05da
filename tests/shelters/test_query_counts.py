"""Pages and hot paths keep a fixed number of queries however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shelters import services
from tests.factories import EvacueeFactory, HouseholdFactory, ShelterFactory

pytestmark = pytest.mark.django_db


def queries_for(callable_):
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured)


def fill(shelter, actor, households):
    for _ in range(households):
        household = HouseholdFactory(members=3)
        for person in household.members.all():
            services.evacuee_update(evacuee_id=person.pk, actor=actor, changes={"support_needs": {"elderly": ""}})
        services.stay_check_in(
            shelter_id=shelter.pk, evacuee_ids=list(household.members.values_list("id", flat=True)), actor=actor
        )


def test_the_residents_page_costs_the_same_for_3_or_30_residents(as_user, manager_a, shelter_a, hq):
    client = as_user(manager_a)
    url = reverse("shelters:residents", args=[shelter_a.pk])
    fill(shelter_a, hq, 1)
    few = queries_for(lambda: client.get(url))

    fill(shelter_a, hq, 9)
    many = queries_for(lambda: client.get(url))

    assert many == few


def test_the_shelter_list_costs_the_same_for_2_or_12_shelters(as_user, hq, shelter_a, shelter_b):
    client = as_user(hq)
    few = queries_for(lambda: client.get(reverse("shelters:list")))

    ShelterFactory.create_batch(10)
    many = queries_for(lambda: client.get(reverse("shelters:list")))

    assert many == few


def test_a_desk_search_costs_the_same_for_1_or_10_matches(as_user, manager_a, shelter_a):
    client = as_user(manager_a)
    EvacueeFactory(name_kana="ホシ イチ")
    few = queries_for(lambda: client.get(reverse("shelters:desk", args=[shelter_a.pk]), {"q": "ホシ"}))

    EvacueeFactory.create_batch(9, name_kana="ホシ ジ")
    many = queries_for(lambda: client.get(reverse("shelters:desk", args=[shelter_a.pk]), {"q": "ホシ"}))

    assert many == few


def test_checking_in_a_household_costs_the_same_for_one_or_five_people(shelter_a, hq):
    one = EvacueeFactory()
    five = list(HouseholdFactory(members=5).members.values_list("id", flat=True))

    single = queries_for(lambda: services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[one.pk], actor=hq))
    family = queries_for(lambda: services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=five, actor=hq))

    assert family == single


def test_checking_in_a_household_through_the_api_costs_the_same_for_one_or_five_people(api_as, hq, shelter_a):
    client = api_as(hq)
    one = [EvacueeFactory().pk]
    five = list(HouseholdFactory(members=5).members.values_list("id", flat=True))

    def check_in(ids, key):
        response = client.post(
            "/api/check-ins/",
            {"shelter": shelter_a.pk, "evacuees": ids},
            format="json",
            headers={"Idempotency-Key": key},
        )
        assert response.status_code == 201

    single = queries_for(lambda: check_in(one, "one"))
    family = queries_for(lambda: check_in(five, "five"))

    assert family == single
