"""Exact statements of the desk's hot writes over the API, authentication included (a token).

No outer transaction here (transactional tests), so what is counted is what runs in production;
transaction control (BEGIN, COMMIT, savepoints) is not a statement of the work and is not counted.
One person or a household of five costs the same. When a change adds a statement
on purpose, update the number and say why in the commit.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from shelters import services
from tests.factories import EvacueeFactory, HouseholdFactory, ShelterFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

STATEMENTS = {
    # token + user; the people locked (support read, candidates checked); the counters' UPDATE
    # (lock, operator, open, state); the check-in; the stays; the audit.
    "check-in": 6,
    # token + user; the stay read; the counters' UPDATE; the stay closed; the audit.
    "check-out": 5,
    # token + user; the stay read; the person locked; both shelters' counters; the stay closed; the
    # check-in and stay; the two move handlers (open supply requests, open follow-up cases); the audit.
    "transfer": 11,
    # A walk-in without consent answers (the service): whether a disaster is open (the consent
    # context); the household, its people and its representative; the audit; the check-in's five.
    # Support needs add two whatever the household's size: their categories read, their rows inserted.
    "walk-in": 10,
}


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def statements(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code in (200, 201), response.content
    work = [query for query in captured.captured_queries if not query["sql"].startswith(TRANSACTION_CONTROL)]
    return len(work), response


@pytest.mark.parametrize(("persona", "members"), [("hq", 1), ("hq", 5), ("manager_a", 1)])
def test_a_check_in_costs_six_statements_for_one_person_or_a_household(persona, members, request, shelter_a):
    shelter_a.capacity = 100
    shelter_a.save()
    user = request.getfixturevalue(persona)
    people = list(HouseholdFactory(members=members).members.all())
    # A manager names someone staying nowhere by the exact lookup that found them at the desk.
    body = {"shelter": shelter_a.pk, "evacuees": [p.pk for p in people], "lookup": people[0].walk_in_id}

    client = token_client(user)
    count, response = statements(lambda: client.post("/api/check-ins/", body, format="json"))

    assert count == STATEMENTS["check-in"]
    assert sorted(stay["evacuee"] for stay in response.json()) == sorted(p.pk for p in people)


def test_a_check_out_and_a_transfer_cost_their_pinned_statements(hq, manager_a, shelter_a):
    shelter_a.capacity = 100
    shelter_a.save()
    other = ShelterFactory(capacity=100)
    first, second = EvacueeFactory(), EvacueeFactory()
    stays = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[first.pk, second.pk], actor=hq).stays
    client = token_client(manager_a)

    out, _response = statements(
        lambda: client.post(f"/api/stays/{stays[0].pk}/check-out/", {"destination": "home"}, format="json")
    )
    moved, _response = statements(
        lambda: client.post(f"/api/stays/{stays[1].pk}/transfer/", {"to_shelter": other.pk}, format="json")
    )

    assert (out, moved) == (STATEMENTS["check-out"], STATEMENTS["transfer"])


def walk_in(shelter, members: int):
    from shelters.services import PersonData

    people = [PersonData(name=f"会津 {i}", support_needs={"elderly": ""} if i % 2 else None) for i in range(members)]
    return lambda: services.walk_in_register_and_check_in(shelter_id=shelter.pk, members=people, actor=None)


def test_a_walk_in_costs_the_same_statements_for_one_person_or_a_household(shelter_a, support_categories):
    shelter_a.capacity = 100
    shelter_a.save()
    counts = []
    for members in (1, 4):
        with CaptureQueriesContext(connection) as captured:
            result = walk_in(shelter_a, members)()
        assert len(result.stays) == members
        counts.append(len([q for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]))

    assert counts == [STATEMENTS["walk-in"], STATEMENTS["walk-in"] + 2]  # the second with support needs
