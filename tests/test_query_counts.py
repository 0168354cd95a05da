"""Exact query counts on the hot pages and endpoints, as Zulip's assert_database_query_count.

Each row is measured twice, with few and with many rows to show; both must equal the pinned
number, so a count can neither creep up nor start growing with the data. When a change adds or
saves a query on purpose, update the number in QUERIES and say why in the commit.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shelters import services
from tests.factories import HouseholdFactory, ShelterFactory
from tests.surveys.follow_up_helpers import k6_answers, submit

pytestmark = pytest.mark.django_db

# name: exact queries. Easy to update: one number per hot path.
# Every list of people costs 2 queries for consent (access/consent.py: the open disaster, the
# decisions of the people shown; releases only during a disaster); the shelter dashboard has two.
# The HQ dashboard asks once whether a disaster is open (the City OS's area counts are shown then).
QUERIES = {
    "api check-in": 9,
    "desk search page": 12,
    "desk search api": 9,
    "residents page": 11,
    "residents api": 11,
    "shelter list page": 3,
    "hq dashboard page": 11,
    "shelter dashboard page": 21,
    "follow-up list page": 10,
    "follow-up list api": 9,
}


def queries_for(callable_) -> int:
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured)


def residents(shelter, actor, households, *, distressed=False):
    """Households of three staying at the shelter, each person needing support."""
    for _ in range(households):
        household = HouseholdFactory(members=3)
        ids = list(household.members.values_list("id", flat=True))
        for person_id in ids:
            services.evacuee_update(evacuee_id=person_id, actor=actor, changes={"support_needs": {"elderly": ""}})
        services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=ids, actor=actor)
        if distressed:
            for person in household.members.all():
                submit(shelter, k6_answers(18), respondent=person)


# Each case: (persona, grow(shelter, hq, size) -> grown, request(clients, shelter, hq, grown)): grown
# once by 1 and then by 9 more rows, or people, or shelters.


def _check_in(client, shelter, ids, key):
    response = client.post(
        "/api/check-ins/", {"shelter": shelter.pk, "evacuees": ids}, format="json", headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201


CASES = {
    "api check-in": (
        "hq",
        # One person, then a household of five: shelter A holds ten, and filling it would add 満員.
        lambda a, hq, size: list(HouseholdFactory(members=min(size, 5)).members.values_list("id", flat=True)),
        lambda c, a, hq, ids: _check_in(c["api"], a, ids, f"key-{len(ids)}"),
    ),
    "desk search page": (
        "manager_a",
        lambda a, hq, size: residents(a, hq, size),
        lambda c, a, hq, size: c["page"].get(reverse("shelters:desk", args=[a.pk]), {"q": "アイヅ"}),
    ),
    "desk search api": (
        "manager_a",
        lambda a, hq, size: residents(a, hq, size),
        lambda c, a, hq, size: c["api"].get("/api/evacuees/", {"search": "アイヅ"}),
    ),
    "residents page": (
        "manager_a",
        lambda a, hq, size: residents(a, hq, size),
        lambda c, a, hq, size: c["page"].get(reverse("shelters:residents", args=[a.pk])),
    ),
    "residents api": (
        "manager_a",
        lambda a, hq, size: residents(a, hq, size),
        lambda c, a, hq, size: c["api"].get(f"/api/shelters/{a.pk}/residents/"),
    ),
    "shelter list page": (
        "hq",
        lambda a, hq, size: ShelterFactory.create_batch(size),
        lambda c, a, hq, size: c["page"].get(reverse("shelters:list")),
    ),
    "hq dashboard page": (
        "hq",
        lambda a, hq, size: [residents(s, hq, 1) for s in ShelterFactory.create_batch(size)],
        lambda c, a, hq, size: c["page"].get(reverse("dashboard:hq")),
    ),
    "shelter dashboard page": (
        "manager_a",
        lambda a, hq, size: residents(a, hq, size, distressed=True),
        lambda c, a, hq, size: c["page"].get(reverse("dashboard:shelter", args=[a.pk])),
    ),
    "follow-up list page": (
        "manager_a",
        lambda a, hq, size: residents(a, hq, size, distressed=True),
        lambda c, a, hq, size: c["page"].get(reverse("follow_ups:list")),
    ),
    "follow-up list api": (
        "manager_a",
        lambda a, hq, size: residents(a, hq, size, distressed=True),
        lambda c, a, hq, size: c["api"].get("/api/follow-ups/"),
    ),
}


def test_every_hot_path_has_a_pinned_count():
    assert sorted(CASES) == sorted(QUERIES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_hot_path_costs_exactly_its_pinned_queries_for_few_or_many_rows(
    name, hq, manager_a, shelter_a, as_user, api_as
):
    persona, grow, request = CASES[name]
    user = {"hq": hq, "manager_a": manager_a}[persona]
    clients = {"page": as_user(user), "api": api_as(user)}
    measured = []
    for size in (1, 9):
        grown = grow(shelter_a, hq, size)
        measured.append(queries_for(lambda grown=grown: request(clients, shelter_a, hq, grown)))

    assert measured == [QUERIES[name], QUERIES[name]], f"{name}: {measured}"
