"""A supply request for a person says what that person needs: the API names them only to a reader
with a basis for their support needs, and every read of it is recorded under that basis."""

import pytest
from django.urls import reverse

from access.models import PersonalDataAccess
from supply import services
from tests.consent import helpers

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked_for(shelter_a, hq, water):
    person = helpers.resident(shelter_a)
    services.request_create(shelter=shelter_a, item=water, actor=hq, quantity=1, evacuee=person)
    return person


def listed(api_as, user) -> list[dict]:
    response = api_as(user).get(reverse("supply-request-list"))
    assert response.status_code == 200
    return response.json()["results"]


def test_the_manager_sees_whom_a_request_is_for_and_the_read_is_recorded_under_its_basis(asked_for, manager_a, api_as):
    assert [row["evacuee"] for row in listed(api_as, manager_a)] == [asked_for.pk]
    read = PersonalDataAccess.objects.get(evacuee=asked_for, viewer=manager_a)
    assert (read.basis, read.categories, read.role) == ("shelter_operation", "support", "manager")


def test_a_person_who_refused_their_support_needs_to_shelter_staff_is_not_named_on_their_requests(
    asked_for, manager_a, hq, api_as
):
    helpers.refuse_everything(asked_for, ["shelter_staff"], categories=["support"])

    rows = listed(api_as, manager_a)
    assert len(rows) == 1 and rows[0]["evacuee"] is None  # the request still counts, for nobody named
    assert not PersonalDataAccess.objects.filter(evacuee=asked_for, viewer=manager_a).exists()
    # HQ, whom the person did not refuse, still sees whom it is for.
    assert [row["evacuee"] for row in listed(api_as, hq)] == [asked_for.pk]


def test_the_supply_page_offers_a_person_whose_name_is_withheld_by_the_marker_not_a_blank(
    shelter_a, manager_a, as_user
):
    person = helpers.resident(shelter_a)
    helpers.refuse_everything(person, ["shelter_staff"], categories=["basic"])

    page = as_user(manager_a).get(reverse("supply:shelter", args=[shelter_a.pk])).content.decode()

    assert f'<option value="{person.pk}">氏名非表示（本人が提供を拒否）</option>' in page
    assert helpers.SECRET_NAME not in page
