"""/api/batch/: many check-ins, walk-ins, check-outs and transfers in one request, each answered on
its own, each applied once whatever the retries (shelters/api_batch.py)."""

import pytest
import schemathesis
from django.conf import settings
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from access.models import PersonalDataAccess
from common.models import AuditEntry
from shelters.models import CheckIn, Evacuee, Shelter, ShelterStatus, Stay, StayChangeKey
from shelters.services import stay_check_in
from tests.api.test_schema_fuzz import Tally, _fuzz, wsgi_app  # noqa: F401  (wsgi_app: a fixture)
from tests.concurrency import run_together
from tests.factories import EvacueeFactory, HouseholdFactory

pytestmark = pytest.mark.django_db

URL = "/api/batch/"


def post(client, *items):
    return client.post(URL, {"items": list(items)}, format="json")


def check_in(key, shelter, *people, **extra):
    return {
        "type": "check_in",
        "idempotency_key": key,
        "shelter": shelter.pk,
        "evacuees": [p.pk for p in people],
    } | extra


def walk_in(key, shelter, *names, **extra):
    members = [{"name": name, "birth_date": "1980-04-01"} for name in names]
    return {"type": "walk_in", "idempotency_key": key, "shelter": shelter.pk, "members": members} | extra


def check_out(key, stay, destination="home"):
    return {"type": "check_out", "idempotency_key": key, "stay": stay.pk, "destination": destination}


def transfer(key, stay, to_shelter, **extra):
    return {"type": "transfer", "idempotency_key": key, "stay": stay.pk, "to_shelter": to_shelter.pk} | extra


def staying(shelter, actor, count=1):
    people = EvacueeFactory.create_batch(count)
    return stay_check_in(shelter_id=shelter.pk, evacuee_ids=[p.pk for p in people], actor=actor).stays


def state():
    """What a batch can change, to compare before and after a retry."""
    return {
        "check_ins": CheckIn.objects.count(),
        "stays": sorted(Stay.objects.values_list("pk", "shelter_id", "checked_out_at")),
        "people": Evacuee.objects.count(),
        "keys": StayChangeKey.objects.count(),
        "counts": sorted(Shelter.objects.values_list("pk", "occupancy", "outside_count")),
        "audit": AuditEntry.objects.count(),
    }


# --- What it does -------------------------------------------------------------------------------


def test_it_applies_every_kind_of_item_in_order_and_answers_each(api_as, hq, shelter_a, shelter_b):
    arriving = EvacueeFactory.create_batch(2)
    household = HouseholdFactory(members=3)
    leaving, moving = staying(shelter_a, hq, 2)

    response = post(
        api_as(hq),
        check_in("in-1", shelter_a, *arriving),
        check_in("in-2", shelter_a, household=household.pk, mode="in_car"),
        walk_in("walk-1", shelter_a, "来訪 一郎", "来訪 花子", consent_answers={"contact": "refused"}),
        check_out("out-1", leaving),
        transfer("move-1", moving, shelter_b),
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["index"], i["type"], i["status"], i["replayed"], i["error"]) for i in items] == [
        (0, "check_in", 201, False, None),
        (1, "check_in", 201, False, None),
        (2, "walk_in", 201, False, None),
        (3, "check_out", 200, False, None),
        (4, "transfer", 201, False, None),
    ]
    first, household_in, walked_in, out, moved = (i["result"] for i in items)
    assert sorted(s["evacuee"] for s in first["stays"]) == sorted(p.pk for p in arriving)
    assert first["check_in"] == CheckIn.objects.get(idempotency_key="in-1").pk
    assert {s["mode"] for s in household_in["stays"]} == {"in_car"}
    assert len(household_in["stays"]) == 3
    newcomers = Evacuee.objects.filter(pk__in=[s["evacuee"] for s in walked_in["stays"]])
    assert sorted(newcomers.values_list("name", flat=True)) == ["来訪 一郎", "来訪 花子"]
    assert walked_in["not_recorded"] == []  # they gave no phone: nothing refused was typed
    assert out["stays"][0]["id"] == leaving.pk and out["stays"][0]["destination"] == "home"
    assert out["stays"][0]["checked_out_at"] is not None
    assert moved["from_stay"] == moving.pk and moved["shelter"] == shelter_b.pk
    assert Stay.objects.get(pk=moved["stays"][0]["id"]).evacuee_id == moving.evacuee_id
    shelter_a.refresh_from_db()
    shelter_b.refresh_from_db()
    assert (shelter_a.occupancy, shelter_a.outside_count, shelter_b.occupancy) == (2 + 2, 3, 1)


def test_one_refused_item_does_not_undo_the_others(api_as, hq, shelter_a, shelter_b):
    first, taken, last = EvacueeFactory.create_batch(3)
    stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[taken.pk], actor=hq)

    items = post(
        api_as(hq),
        check_in("a", shelter_a, first),
        check_in("b", shelter_a, taken),
        check_in("c", shelter_a, last),
    ).json()["items"]

    assert [i["status"] for i in items] == [201, 409, 201]
    assert items[1]["result"] is None
    assert items[1]["error"]["code"] == "already_checked_in"
    assert set(items[1]["error"]) == {"code", "message", "fields"}  # the one error shape
    assert list(items[1]["error"]["fields"]) == ["evacuees"]
    assert Stay.objects.filter(shelter=shelter_a, checked_out_at__isnull=True).count() == 2


def test_items_are_applied_in_order_so_a_later_one_sees_an_earlier_one(api_as, hq, shelter_a, shelter_b):
    person = EvacueeFactory()
    (stay,) = staying(shelter_a, hq)

    items = post(
        api_as(hq),
        check_out("out", stay),
        check_in("back", shelter_b, Evacuee.objects.get(pk=stay.evacuee_id)),
        check_in("twice", shelter_a, person),
        check_in("twice-again", shelter_b, person),
    ).json()["items"]

    assert [i["status"] for i in items] == [200, 201, 201, 409]


def test_a_desk_that_queued_a_check_in_offline_checks_the_person_out_by_person(api_as, hq, shelter_a, shelter_b):
    person, moving = EvacueeFactory.create_batch(2)
    client = api_as(hq)
    items = [
        check_in("in-1", shelter_a, person, moving),
        {"type": "check_out", "idempotency_key": "out-1", "evacuee": person.pk, "destination": "home"},
        {"type": "transfer", "idempotency_key": "move-1", "evacuee": moving.pk, "to_shelter": shelter_b.pk},
    ]

    first = post(client, *items).json()["items"]
    again = post(client, *items).json()["items"]

    assert [i["status"] for i in first] == [201, 200, 201]
    stays = {s["evacuee"]: s["id"] for s in first[0]["result"]["stays"]}
    assert first[1]["result"]["stays"][0]["id"] == stays[person.pk]
    assert first[2]["result"]["from_stay"] == stays[moving.pk]
    assert [(i["replayed"], i["result"]) for i in again] == [(True, i["result"]) for i in first]
    assert not Stay.objects.filter(evacuee=person, checked_out_at__isnull=True).exists()


def test_a_check_out_by_person_needs_them_staying_at_a_shelter_one_operates(people, api_as, hq, shelter_a, shelter_b):
    (theirs,) = staying(shelter_b, hq)
    nowhere = EvacueeFactory()
    by_person = {"type": "check_out", "destination": "home"}

    items = post(
        api_as(people["manager_a"]),
        by_person | {"idempotency_key": "a", "evacuee": theirs.evacuee_id},
        by_person | {"idempotency_key": "b", "evacuee": nowhere.pk},
    ).json()["items"]
    post(api_as(hq), check_out("c", theirs))
    (reused,) = post(api_as(hq), by_person | {"idempotency_key": "c", "evacuee": nowhere.pk}).json()["items"]

    assert [(i["status"], list(i["error"]["fields"])) for i in items] == [(404, ["evacuee"]), (404, ["evacuee"])]
    assert (reused["status"], reused["error"]["code"]) == (409, "idempotency_key_reused")
    assert Stay.objects.get(pk=theirs.pk).is_open is False  # checked out by HQ's first item only


def test_a_batch_sent_again_answers_the_same_and_does_nothing_twice(api_as, hq, shelter_a, shelter_b):
    arriving = EvacueeFactory.create_batch(2)
    taken = EvacueeFactory()
    stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[taken.pk], actor=hq)
    leaving, moving = staying(shelter_a, hq, 2)
    items = [
        check_in("in-1", shelter_a, *arriving),
        walk_in("walk-1", shelter_a, "来訪 一郎"),
        check_out("out-1", leaving),
        transfer("move-1", moving, shelter_b),
        check_in("refused", shelter_a, taken),
    ]
    client = api_as(hq)
    first = post(client, *items).json()["items"]
    before = state()

    again = post(client, *items).json()["items"]

    assert state() == before
    assert [(i["result"], i["error"]) for i in again] == [(i["result"], i["error"]) for i in first]
    assert [i["replayed"] for i in again] == [True, True, True, True, False]
    assert [i["status"] for i in again] == [200, 200, 200, 200, 409]


def test_a_key_used_for_another_action_is_a_conflict_for_that_item(api_as, hq, shelter_a, shelter_b):
    one, other = staying(shelter_a, hq, 2)
    client = api_as(hq)
    post(client, check_out("out", one), transfer("move", other, shelter_b))

    items = post(
        client,
        check_out("out", other),  # the key of another stay's check-out
        transfer("move", one, shelter_b),  # the key of another stay's transfer
    ).json()["items"]
    (as_transfer,) = post(client, transfer("out", other, shelter_b)).json()["items"]  # a check-out's key
    # Keys of check-ins and of stay changes are apart.
    (walked_in,) = post(client, walk_in("move", shelter_a, "来訪 一郎")).json()["items"]

    assert [i["status"] for i in [*items, as_transfer, walked_in]] == [409, 409, 409, 201]
    assert {i["error"]["code"] for i in items[:2]} == {"idempotency_key_reused"}
    assert items[0]["error"]["fields"] == {"idempotency_key": [items[0]["error"]["message"]]}


def test_a_walk_in_key_of_a_check_in_at_another_shelter_is_a_conflict(api_as, hq, shelter_a, shelter_b):
    client = api_as(hq)
    post(client, check_in("k", shelter_b, EvacueeFactory()))

    (item,) = post(client, walk_in("k", shelter_a, "来訪 一郎")).json()["items"]

    assert (item["status"], item["error"]["code"]) == (409, "idempotency_key_reused")


def test_a_retried_check_in_is_answered_from_the_single_endpoints_key_too(api_as, hq, shelter_a):
    person = EvacueeFactory()
    client = api_as(hq)
    single = client.post(
        "/api/check-ins/",
        {"shelter": shelter_a.pk, "evacuees": [person.pk]},
        format="json",
        headers={"Idempotency-Key": "k"},
    )

    (item,) = post(client, check_in("k", shelter_a, person)).json()["items"]

    assert (item["status"], item["replayed"]) == (200, True)
    assert [s["id"] for s in item["result"]["stays"]] == [s["id"] for s in single.json()]


# --- Bounds: a 400 naming the item and the field, and nothing applied ------------------------------


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "items"),
        ("not a list", "items"),
        (["not an object"], "items[0]"),
        ([{"type": "dance", "idempotency_key": "k"}], "items[0].type"),
        ([{"idempotency_key": "k"}], "items[0].type"),
        ([{"type": ["check_in"], "idempotency_key": "k"}], "items[0].type"),
        ([{"type": "check_in", "shelter": 1, "evacuees": [1]}], "items[0].idempotency_key"),
        (
            [{"type": "check_in", "idempotency_key": "k" * 65, "shelter": 1, "evacuees": [1]}],
            "items[0].idempotency_key",
        ),
        ([{"type": "check_in", "idempotency_key": "k", "shelter": 2**63, "evacuees": [1]}], "items[0].shelter"),
        ([{"type": "check_in", "idempotency_key": "k", "shelter": 1}], "items[0].evacuees"),
        ([{"type": "check_in", "idempotency_key": "k", "shelter": 1, "evacuees": [0]}], "items[0].evacuees[0]"),
        ([{"type": "check_in", "idempotency_key": "k", "shelter": 1, "evacuees": [1] * 101}], "items[0].evacuees"),
        (
            [{"type": "walk_in", "idempotency_key": "k", "shelter": 1, "members": []}],
            "items[0].members.non_field_errors",
        ),
        (
            [{"type": "walk_in", "idempotency_key": "k", "shelter": 1, "members": [{"name": "x" * 101}]}],
            "items[0].members[0].name",
        ),
        (
            [
                {
                    "type": "walk_in",
                    "idempotency_key": "k",
                    "shelter": 1,
                    "members": [{"name": "x"}],
                    "consent_answers": {"dna": "given"},
                }
            ],
            "items[0].consent_answers",
        ),
        (
            [{"type": "check_out", "idempotency_key": "k", "stay": 1, "destination": "other_shelter"}],
            "items[0].destination",
        ),
        ([{"type": "transfer", "idempotency_key": "k", "stay": 1}], "items[0].to_shelter"),
        ([{"type": "check_out", "idempotency_key": "k", "destination": "home"}], "items[0].stay"),
        (
            [{"type": "check_out", "idempotency_key": "k", "stay": 1, "evacuee": 1, "destination": "home"}],
            "items[0].stay",
        ),
    ],
)
def test_a_malformed_item_is_a_400_naming_it(api_as, hq, items, field):
    response = api_as(hq).post(URL, {"items": items}, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], response.json()


def test_nothing_is_applied_when_one_item_is_malformed(api_as, hq, shelter_a):
    person = EvacueeFactory()
    items = [check_in(f"k{n}", shelter_a, person) for n in range(3)]
    items.append(check_in("bad", shelter_a, person, mode="roof"))

    response = api_as(hq).post(URL, {"items": items}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["items[3].mode"]
    assert not Stay.objects.exists()


def test_a_key_twice_in_one_batch_is_a_400_naming_the_second(api_as, hq, shelter_a):
    one, two = EvacueeFactory.create_batch(2)

    response = post(
        api_as(hq), check_in("k", shelter_a, one), check_in("other", shelter_a, two), check_in("k", shelter_a, two)
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["items[2].idempotency_key"]


def test_more_than_a_hundred_items_is_a_400(api_as, hq, shelter_a):
    items = [check_in(f"k{n}", shelter_a, EvacueeFactory.build(pk=n + 1)) for n in range(101)]

    response = api_as(hq).post(URL, {"items": items}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["items"]


# --- Permissions: exactly the single endpoints' ---------------------------------------------------


@pytest.mark.parametrize("persona", ["official", "anonymous"])
def test_who_may_not_see_people_is_refused_the_whole_batch(persona, people, api_as, shelter_a):
    person = EvacueeFactory()

    response = post(api_as(people[persona]), check_in("k", shelter_a, person))

    assert response.status_code in (401, 403)
    assert not Stay.objects.exists()


def test_a_manager_cannot_act_on_another_shelter_through_a_batch(people, api_as, hq, shelter_a, shelter_b):
    manager_a = people["manager_a"]
    (theirs,) = staying(shelter_b, hq)
    (mine,) = staying(shelter_a, hq)
    nowhere = EvacueeFactory()

    items = post(
        api_as(manager_a),
        check_in("in-b", shelter_b, nowhere, lookup=nowhere.walk_in_id),
        walk_in("walk-b", shelter_b, "来訪 一郎"),
        check_out("out-b", theirs),
        transfer("move-b", theirs, shelter_a),
        check_in("browse", shelter_a, nowhere),  # someone who stays nowhere, without the lookup
        check_in("found", shelter_a, nowhere, lookup=nowhere.walk_in_id),
        transfer("move-a", mine, shelter_b),  # as the single endpoint: from their shelter, to any
    ).json()["items"]

    assert [(i["status"], i["error"] and i["error"]["code"]) for i in items] == [
        (403, "permission_denied"),
        (403, "permission_denied"),
        (404, "not_found"),
        (404, "not_found"),
        (404, "not_found"),
        (201, None),
        (201, None),
    ]
    assert Stay.objects.get(pk=theirs.pk).is_open
    assert not Evacuee.objects.filter(name="来訪 一郎").exists()


def test_a_manager_sending_another_shelters_key_again_is_answered_not_found(people, api_as, hq, shelter_b):
    (theirs,) = staying(shelter_b, hq)
    post(api_as(hq), check_out("k", theirs))

    (item,) = post(api_as(people["manager_a"]), check_out("k", theirs)).json()["items"]

    assert (item["status"], item["error"]["code"], item["result"]) == (404, "not_found", None)


def test_the_answer_shows_no_name_and_records_no_read(people, api_as, shelter_a, hq):
    (stay,) = staying(shelter_a, hq)
    nowhere = EvacueeFactory(name="来訪 次郎")
    manager_a = people["manager_a"]

    response = post(
        api_as(manager_a),
        check_in("in", shelter_a, nowhere, lookup=nowhere.walk_in_id),
        check_out("out", stay),
        walk_in("walk", shelter_a, "来訪 三郎"),
    )

    assert [i["status"] for i in response.json()["items"]] == [201, 200, 201]
    body = response.content.decode()
    assert "来訪" not in body and Evacuee.objects.get(pk=stay.evacuee_id).name not in body
    assert not PersonalDataAccess.objects.exists()


def test_a_closed_shelter_refuses_its_items_with_the_single_endpoints_error(api_as, hq, shelter_a):
    Shelter.objects.filter(pk=shelter_a.pk).update(status=ShelterStatus.CLOSED)

    (item,) = post(api_as(hq), walk_in("k", shelter_a, "来訪 一郎")).json()["items"]

    assert (item["status"], item["error"]["code"], list(item["error"]["fields"])) == (
        400,
        "shelter_not_open",
        ["shelter"],
    )
    assert not Evacuee.objects.filter(name="来訪 一郎").exists()


# --- Cost: the queries per item are the service's, and constant ------------------------------------

# A batch of check-ins of one person each, as HQ: the session and the user (2), then per item the
# check-in service's own statements and nothing of the batch's (7 here: its transaction is a
# savepoint inside the test's, SAVEPOINT and RELEASE counted; in production BEGIN and COMMIT are
# not). When the service's count changes, these change with it.
QUERIES_FOR_ONE = 9
QUERIES_PER_ITEM = 7


@pytest.mark.parametrize("size", [1, 10])
def test_a_batch_of_check_ins_costs_the_service_queries_per_item_and_no_more(
    size, api_as, hq, shelter_a, django_assert_num_queries
):
    Shelter.objects.filter(pk=shelter_a.pk).update(capacity=None)
    people = EvacueeFactory.create_batch(size)
    client = api_as(hq)
    items = [check_in(f"k{n}", shelter_a, person) for n, person in enumerate(people)]

    with django_assert_num_queries(QUERIES_FOR_ONE + QUERIES_PER_ITEM * (size - 1)):
        response = post(client, *items)

    assert [i["status"] for i in response.json()["items"]] == [201] * size


# A shelter manager's batch costs what HQ's does: as /api/check-ins/, the service checks that they
# operate the shelter and may name the person in its own statements (people.check_in_candidates).
MANAGER_QUERIES_FOR_ONE = 9
MANAGER_QUERIES_PER_ITEM = 7


@pytest.mark.parametrize("size", [1, 10])
def test_a_managers_batch_costs_what_hqs_does(size, people, api_as, shelter_a, django_assert_num_queries):
    Shelter.objects.filter(pk=shelter_a.pk).update(capacity=None)
    found = EvacueeFactory.create_batch(size)
    client = api_as(people["manager_a"])
    items = [check_in(f"k{n}", shelter_a, person, lookup=person.walk_in_id) for n, person in enumerate(found)]

    with django_assert_num_queries(MANAGER_QUERIES_FOR_ONE + MANAGER_QUERIES_PER_ITEM * (size - 1)):
        response = post(client, *items)

    assert [i["status"] for i in response.json()["items"]] == [201] * size


# --- The schema: no 5xx and every answer as documented, whatever the input ------------------------


@pytest.mark.parametrize("persona", ["hq", "manager_a"])
def test_the_batch_answers_within_its_schema_whatever_it_is_sent(persona, people, world, wsgi_app):  # noqa: F811
    token = Token.objects.create(user=people[persona])
    headers = {"Authorization": f"Token {token.key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=headers)
    tally = Tally()
    cache.clear()

    operation = schema["/api/batch/"]["POST"]
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
        _fuzz(operation, mode, app=wsgi_app, headers=headers, tally=tally)

    assert tally.requests > 0 and 429 not in tally.statuses
    assert tally.failures == {}, tally.failures


# --- The same batch sent twice at once (PostgreSQL: real row locks and unique indexes) -------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
)
def test_the_same_batch_sent_twice_at_once_applies_each_item_once(api_as, hq, shelter_a, shelter_b):
    arriving = EvacueeFactory.create_batch(3)
    leaving, moving = staying(shelter_a, hq, 2)
    items = [
        check_in("in-1", shelter_a, arriving[0]),
        check_in("in-2", shelter_a, *arriving[1:]),
        walk_in("walk-1", shelter_a, "来訪 一郎", "来訪 花子"),
        check_out("out-1", leaving),
        transfer("move-1", moving, shelter_b),
    ]
    clients = [api_as(hq), api_as(hq)]
    people_before = Evacuee.objects.count()

    first, second = run_together(*[lambda client=client: post(client, *items) for client in clients])

    answers = [response.json()["items"] for response in (first, second)]
    assert [[i["error"] for i in answer] for answer in answers] == [[None] * 5, [None] * 5]
    assert [i["result"] for i in answers[0]] == [i["result"] for i in answers[1]]
    # Each item done by one of the two requests and replayed by the other.
    assert [sorted([a["replayed"], b["replayed"]]) for a, b in zip(*answers, strict=True)] == [[False, True]] * 5
    assert CheckIn.objects.filter(idempotency_key__isnull=False).count() == 3
    assert Evacuee.objects.count() == people_before + 2
    assert StayChangeKey.objects.count() == 2
    assert Stay.objects.filter(checked_out_at__isnull=True).count() == 3 + 2 + 1
    shelter_a.refresh_from_db()
    shelter_b.refresh_from_db()
    assert (shelter_a.occupancy, shelter_b.occupancy) == (3 + 2, 1)
