"""Who finds whom: residents freely, people who stay nowhere by an exact lookup only, other shelters never.

Stay history shows other shelters only to HQ; a manager whose resident was transferred away sees
that the person went to another shelter, not which one. Lists record one read per person shown.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import PersonalDataAccess
from shelters import services
from tests.factories import EvacueeFactory

pytestmark = pytest.mark.django_db


def desk_search(client, shelter, query):
    response = client.get(reverse("shelters:desk", args=[shelter.pk]), {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def offered(person) -> str:
    """The desk's checkbox for a person found."""
    return f'name="evacuees" value="{person.pk}"'


@pytest.fixture
def walker(db):
    """Someone who checked out of a shelter and now stays nowhere."""
    return EvacueeFactory(
        name="会津 歩",
        name_kana="アイヅ アユミ",
        city_os_id="AIZU-0001",
        phone="0242-12-3456",
        birth_date=datetime.date(1950, 4, 1),
        address="会津若松市追手町1-1",
    )


@pytest.mark.parametrize(
    "query",
    ["アイヅ", "会津", "0242-12", "1234", "1950-04-01", "会津 歩", "AIZU"],
    ids=["kana part", "name part", "phone part", "phone digits part", "birth date alone", "name alone", "id part"],
)
def test_a_manager_does_not_find_a_person_staying_nowhere_by_a_partial_search(
    query, walker, manager_a, shelter_a, as_user
):
    assert offered(walker) not in desk_search(as_user(manager_a), shelter_a, query)


@pytest.mark.parametrize(
    "query",
    [
        "AIZU-0001",
        "aizu-0001",
        "CITYOS:AIZU-0001",
        '{"id": "AIZU-0001"}',
        "https://id.example.jp/?id=AIZU-0001",
        "0242-12-3456",
        "0242123456",
        "会津 歩 1950-04-01",
        "会津歩 1950/4/1",
        "アイヅ アユミ 1950年4月1日",
    ],
    ids=[
        "id",
        "id lower case",
        "qr prefix",
        "qr json",
        "qr url",
        "phone",
        "phone digits",
        "name and birth date",
        "name without space",
        "kana and japanese date",
    ],
)
def test_a_manager_finds_a_person_staying_nowhere_by_an_exact_lookup(query, walker, manager_a, shelter_a, as_user):
    assert offered(walker) in desk_search(as_user(manager_a), shelter_a, query)


def test_a_wrong_birth_date_with_the_right_name_finds_nobody(walker, manager_a, shelter_a, as_user):
    assert offered(walker) not in desk_search(as_user(manager_a), shelter_a, "会津 歩 1950-04-02")


def test_an_exact_lookup_brings_the_household_members_who_stay_nowhere(manager_a, shelter_a, as_user):
    from tests.factories import HouseholdFactory

    household = HouseholdFactory(members=3)
    first, second, third = household.members.order_by("id")

    page = desk_search(as_user(manager_a), shelter_a, first.walk_in_id)

    assert all(offered(person) in page for person in (first, second, third))


def test_hq_still_browses_and_searches_everyone(walker, hq, shelter_a, as_user, api_as):
    assert offered(walker) in desk_search(as_user(hq), shelter_a, "アイヅ")
    assert [p["id"] for p in api_as(hq).get("/api/evacuees/").json()["results"]] == [walker.pk]


def test_a_manager_still_searches_their_own_residents_by_any_part(walker, manager_a, shelter_a, hq, as_user):
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[walker.pk], actor=hq)

    assert offered(walker) in desk_search(as_user(manager_a), shelter_a, "アイ")


def test_a_manager_cannot_open_or_list_a_person_staying_nowhere(walker, manager_a, as_user, api_as):
    assert as_user(manager_a).get(reverse("shelters:evacuee", args=[walker.pk])).status_code == 404
    assert api_as(manager_a).get(f"/api/evacuees/{walker.pk}/").status_code == 404
    assert api_as(manager_a).get("/api/evacuees/").json()["results"] == []
    assert api_as(manager_a).get("/api/households/").json()["results"] == []


def test_a_manager_finds_a_person_staying_nowhere_over_the_api_only_by_an_exact_search(walker, manager_a, api_as):
    client = api_as(manager_a)

    assert client.get("/api/evacuees/", {"search": "アイヅ"}).json()["results"] == []
    assert [p["id"] for p in client.get("/api/evacuees/", {"search": "0242123456"}).json()["results"]] == [walker.pk]


def test_a_manager_checks_in_a_person_staying_nowhere_only_with_the_lookup_that_found_them(
    walker, manager_a, shelter_a, api_as
):
    client = api_as(manager_a)
    body = {"shelter": shelter_a.pk, "evacuees": [walker.pk]}

    refused = client.post("/api/check-ins/", body, format="json")
    guessed = client.post("/api/check-ins/", {**body, "lookup": "アイヅ"}, format="json")
    accepted = client.post("/api/check-ins/", {**body, "lookup": "AIZU-0001"}, format="json")

    assert (refused.status_code, guessed.status_code, accepted.status_code) == (404, 404, 201)
    assert refused.json()["error"]["code"] == "not_found"


def test_the_desk_checks_in_only_the_people_its_search_found(walker, manager_a, shelter_a, as_user):
    client = as_user(manager_a)
    url = reverse("shelters:desk_check_in", args=[shelter_a.pk])

    client.post(url, {"evacuees": [walker.pk], "mode": "inside", "q": "アイヅ"})
    assert not walker.stays.exists()

    client.post(url, {"evacuees": [walker.pk], "mode": "inside", "q": "0242-12-3456"})
    assert walker.stays.filter(shelter=shelter_a, checked_out_at__isnull=True).exists()


# --- Stay history -----------------------------------------------------------------------------------


@pytest.fixture
def moved_from_b_to_a(walker, shelter_a, shelter_b, hq):
    """The walker stayed at B, was transferred to A, and is at A now."""
    stay_b = services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[walker.pk], actor=hq).stays[0]
    services.stay_transfer(stay_id=stay_b.pk, to_shelter_id=shelter_a.pk, actor=hq)
    return walker


def test_manager_a_opening_a_person_who_once_stayed_at_b_does_not_see_b(
    moved_from_b_to_a, manager_a, shelter_a, shelter_b, as_user
):
    page = as_user(manager_a).get(reverse("shelters:evacuee", args=[moved_from_b_to_a.pk])).content.decode()

    assert shelter_a.name in page
    assert shelter_b.name not in page


def test_hq_sees_the_whole_stay_history_with_the_destination(moved_from_b_to_a, hq, shelter_a, shelter_b, as_user):
    page = as_user(hq).get(reverse("shelters:evacuee", args=[moved_from_b_to_a.pk])).content.decode()

    assert page.count(shelter_a.name) == 2  # the stay at A, and A as where the stay at B went
    assert shelter_b.name in page


def test_the_old_shelters_manager_sees_that_a_transferred_person_left_but_not_where_to(
    walker, shelter_a, shelter_b, hq, manager_a, manager_b, api_as
):
    stay_a = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[walker.pk], actor=hq).stays[0]
    services.stay_transfer(stay_id=stay_a.pk, to_shelter_id=shelter_b.pk, actor=hq)

    as_a = api_as(manager_a).get("/api/stays/").json()["results"]
    as_b = api_as(manager_b).get("/api/stays/").json()["results"]
    as_hq = api_as(hq).get("/api/stays/", {"evacuee": walker.pk}).json()["results"]

    assert [(s["shelter"], s["destination"], s["destination_shelter"]) for s in as_a] == [
        (shelter_a.pk, "other_shelter", None)
    ]
    assert [s["shelter"] for s in as_b] == [shelter_b.pk]
    assert as_hq[1]["destination_shelter"] == shelter_b.pk
    assert api_as(manager_a).get(f"/api/stays/{stay_a.pk}/").json()["destination_shelter"] is None


# --- Reads are recorded ------------------------------------------------------------------------------


def test_the_evacuee_list_records_one_read_per_person_shown_in_one_insert(hq, api_as):
    people = EvacueeFactory.create_batch(3)

    with CaptureQueriesContext(connection) as queries:
        response = api_as(hq).get("/api/evacuees/")

    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT") and "personaldataaccess" in q["sql"]]
    assert len(inserts) == 1
    assert sorted(PersonalDataAccess.objects.values_list("evacuee_id", "purpose")) == sorted(
        (p.pk, "api.evacuee_list") for p in people
    )
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize(
    ("action", "body"),
    [
        (
            "check-out",
            {"destination": "home"},
        ),
        ("transfer", None),
    ],
)
def test_a_check_out_or_transfer_over_the_api_answers_with_ids_and_records_no_read(
    action, body, walker, shelter_a, shelter_b, hq, manager_a, manager_b, api_as
):
    stay = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[walker.pk], actor=hq).stays[0]
    PersonalDataAccess.objects.all().delete()
    body = body or {"to_shelter": shelter_b.pk}

    refused = api_as(manager_b).post(f"/api/stays/{stay.pk}/{action}/", body)
    response = api_as(manager_a).post(f"/api/stays/{stay.pk}/{action}/", body)

    assert refused.status_code == 404, refused.content
    assert response.status_code in (200, 201), response.content
    assert response.json()["evacuee"] == walker.pk
    assert walker.name not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["/api/evacuees/{}/", "/api/households/{}/", "/api/stays/{}/", "/api/supply/requests/{}/", "/api/follow-ups/{}/"],
)
@pytest.mark.parametrize("bad_id", ["abc", "9" * 19])
def test_an_id_that_cannot_name_a_row_is_not_found_in_the_one_error_shape(path, bad_id, hq, api_as):
    response = api_as(hq).get(path.format(bad_id))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_update_over_the_api_records_the_person_once(walker, hq, api_as):
    response = api_as(hq).patch(f"/api/evacuees/{walker.pk}/", {"phone": "0242-99-0000"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "0242-99-0000"
    assert list(PersonalDataAccess.objects.values_list("evacuee_id", "purpose")) == [(walker.pk, "api.evacuee_update")]


def test_the_evacuee_list_leaves_out_address_and_phone_which_the_detail_shows(walker, hq, api_as):
    row = api_as(hq).get("/api/evacuees/").json()["results"][0]
    detail = api_as(hq).get(f"/api/evacuees/{walker.pk}/").json()

    assert "address" not in row and "phone" not in row
    assert (detail["address"], detail["phone"]) == (walker.address, walker.phone)


@pytest.mark.parametrize(
    "page, purpose",
    [("shelters:residents", "page.residents"), ("dashboard:shelter", "page.shelter_dashboard")],
)
def test_a_shelters_lists_of_names_record_each_person_shown(page, purpose, shelter_a, hq, manager_a, as_user):
    people = EvacueeFactory.create_batch(2, requires_evacuation_support=True)
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[p.pk for p in people], actor=hq)

    as_user(manager_a).get(reverse(page, args=[shelter_a.pk]))

    assert sorted(PersonalDataAccess.objects.filter(viewer=manager_a).values_list("evacuee_id", "purpose")) == sorted(
        (p.pk, purpose) for p in people
    )


def test_a_desk_search_records_the_people_found(walker, manager_a, shelter_a, as_user):
    desk_search(as_user(manager_a), shelter_a, "AIZU-0001")

    assert list(PersonalDataAccess.objects.values_list("viewer", "evacuee", "purpose")) == [
        (manager_a.pk, walker.pk, "page.desk_search")
    ]
