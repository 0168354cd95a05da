"""Every page and endpoint, asked by every persona: HQ, manager of A, manager of B, official, anonymous."""

import pytest
from django.urls import reverse

from access.models import PersonalDataAccess
from shelters import services
from tests.factories import EvacueeFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["hq", "manager_a", "manager_b", "official", "anonymous"]


@pytest.fixture
def people(request, hq, manager_a, manager_b, official):
    return {"hq": hq, "manager_a": manager_a, "manager_b": manager_b, "official": official, "anonymous": None}


@pytest.fixture
def resident(shelter_a, hq):
    """A person staying at shelter A, and their stay."""
    person = EvacueeFactory()
    stay = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq).stays[0]
    return person, stay


def status_of(response):
    # Anonymous page requests are sent to the login page.
    if response.status_code == 302 and "/login/" in response["Location"]:
        return "login"
    return response.status_code


# --- Pages ---------------------------------------------------------------------------------------

PAGE_EXPECTATIONS = {
    # name: (method, url builder, {persona: expected})
    "home": (
        "get",
        lambda a, s: reverse("home"),
        dict(hq=302, manager_a=302, manager_b=302, official=302, anonymous="login"),
    ),
    "shelter list": (
        "get",
        lambda a, s: reverse("shelters:list"),
        dict(hq=200, manager_a=200, manager_b=200, official=200, anonymous="login"),
    ),
    "shelter detail": (
        "get",
        lambda a, s: reverse("shelters:detail", args=[a.pk]),
        dict(hq=200, manager_a=200, manager_b=404, official=200, anonymous="login"),
    ),
    "status change": (
        "post",
        lambda a, s: reverse("shelters:detail", args=[a.pk]),
        dict(hq=302, manager_a=302, manager_b=404, official=403, anonymous="login"),
    ),
    "desk": (
        "get",
        lambda a, s: reverse("shelters:desk", args=[a.pk]),
        dict(hq=200, manager_a=200, manager_b=403, official=403, anonymous="login"),
    ),
    "desk check-in": (
        "post",
        lambda a, s: reverse("shelters:desk_check_in", args=[a.pk]),
        dict(hq=302, manager_a=302, manager_b=403, official=403, anonymous="login"),
    ),
    "desk walk-in": (
        "post",
        lambda a, s: reverse("shelters:desk_walk_in", args=[a.pk]),
        dict(hq=400, manager_a=400, manager_b=403, official=403, anonymous="login"),
    ),
    "residents": (
        "get",
        lambda a, s: reverse("shelters:residents", args=[a.pk]),
        dict(hq=200, manager_a=200, manager_b=403, official=403, anonymous="login"),
    ),
    "check-out": (
        "post",
        lambda a, s: reverse("shelters:check_out", args=[a.pk, s.pk]),
        dict(hq=302, manager_a=302, manager_b=403, official=403, anonymous="login"),
    ),
    "transfer": (
        "post",
        lambda a, s: reverse("shelters:transfer", args=[a.pk, s.pk]),
        dict(hq=302, manager_a=302, manager_b=403, official=403, anonymous="login"),
    ),
    "person": (
        "get",
        lambda a, s: reverse("shelters:evacuee", args=[s.evacuee_id]),
        dict(hq=200, manager_a=200, manager_b=404, official=403, anonymous="login"),
    ),
    "admin": (
        "get",
        lambda a, s: reverse("admin:index"),
        dict(hq="login", manager_a="login", manager_b="login", official="login", anonymous="login"),
    ),
}
PAGE_BODIES = {"status change": {"status": "full"}, "check-out": {"destination": "home"}}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", PAGE_EXPECTATIONS)
def test_each_page_answers_each_persona_as_the_policy_says(page, persona, people, as_user, shelter_a, resident):
    method, url, expected = PAGE_EXPECTATIONS[page]
    client = as_user(people[persona])

    response = getattr(client, method)(url(shelter_a, resident[1]), PAGE_BODIES.get(page, {}))

    assert status_of(response) == expected[persona]


def test_an_official_sees_shelter_figures_but_no_check_in_desk_link(as_user, official, shelter_a):
    response = as_user(official).get(reverse("shelters:list"))

    assert shelter_a.name in response.content.decode()
    assert reverse("shelters:desk", args=[shelter_a.pk]) not in response.content.decode()


def test_manager_b_searching_at_their_desk_does_not_find_people_staying_at_shelter_a(
    as_user, manager_a, manager_b, shelter_a, shelter_b, resident
):
    person, _ = resident

    response = as_user(manager_b).get(reverse("shelters:desk", args=[shelter_b.pk]), {"q": person.name})
    # The same search at shelter A's desk finds them: the search works, manager B may not see them.
    at_shelter_a = as_user(manager_a).get(reverse("shelters:desk", args=[shelter_a.pk]), {"q": person.name})

    assert response.status_code == 200
    assert (response.context["query"], response.context["result_count"]) == (person.name, 0)
    assert person.walk_in_id not in response.content.decode()
    assert 'name="evacuees"' not in response.content.decode()
    assert at_shelter_a.status_code == 200 and at_shelter_a.context["result_count"] == 1
    assert person.walk_in_id in at_shelter_a.content.decode()


def test_viewing_a_persons_page_is_recorded(as_user, manager_a, resident):
    person, _ = resident

    as_user(manager_a).get(reverse("shelters:evacuee", args=[person.pk]))

    access = PersonalDataAccess.objects.get()
    assert (access.viewer, access.evacuee, access.purpose) == (manager_a, person, "page.evacuee_detail")


# --- API -----------------------------------------------------------------------------------------

API_EXPECTATIONS = {
    "shelter list": (
        "get",
        lambda a, b, s: "/api/shelters/",
        {},
        dict(hq=200, manager_a=200, manager_b=200, official=200, anonymous=403),
    ),
    "shelter A": (
        "get",
        lambda a, b, s: f"/api/shelters/{a.pk}/",
        {},
        dict(hq=200, manager_a=200, manager_b=404, official=200, anonymous=403),
    ),
    "status of A": (
        "post",
        lambda a, b, s: f"/api/shelters/{a.pk}/status/",
        {"status": "full"},
        dict(hq=200, manager_a=200, manager_b=404, official=403, anonymous=403),
    ),
    "status history of A": (
        "get",
        lambda a, b, s: f"/api/shelters/{a.pk}/status-changes/",
        {},
        dict(hq=200, manager_a=200, manager_b=404, official=200, anonymous=403),
    ),
    "residents of A": (
        "get",
        lambda a, b, s: f"/api/shelters/{a.pk}/residents/",
        {},
        dict(hq=200, manager_a=200, manager_b=404, official=403, anonymous=403),
    ),
    "evacuee list": (
        "get",
        lambda a, b, s: "/api/evacuees/",
        {},
        dict(hq=200, manager_a=200, manager_b=200, official=403, anonymous=403),
    ),
    "resident of A": (
        "get",
        lambda a, b, s: f"/api/evacuees/{s.evacuee_id}/",
        {},
        dict(hq=200, manager_a=200, manager_b=404, official=403, anonymous=403),
    ),
    "edit resident of A": (
        "patch",
        lambda a, b, s: f"/api/evacuees/{s.evacuee_id}/",
        {"phone": "0242-00-9999"},
        dict(hq=200, manager_a=200, manager_b=404, official=403, anonymous=403),
    ),
    "register person": (
        "post",
        lambda a, b, s: "/api/evacuees/",
        {"name": "新規 太郎"},
        dict(hq=201, manager_a=201, manager_b=201, official=403, anonymous=403),
    ),
    "household list": (
        "get",
        lambda a, b, s: "/api/households/",
        {},
        dict(hq=200, manager_a=200, manager_b=200, official=403, anonymous=403),
    ),
    "register household": (
        "post",
        lambda a, b, s: "/api/households/",
        {"members": [{"name": "新規 花子"}]},
        dict(hq=201, manager_a=201, manager_b=201, official=403, anonymous=403),
    ),
    "stay list": (
        "get",
        lambda a, b, s: "/api/stays/",
        {},
        dict(hq=200, manager_a=200, manager_b=200, official=403, anonymous=403),
    ),
    "stay at A": (
        "get",
        lambda a, b, s: f"/api/stays/{s.pk}/",
        {},
        dict(hq=200, manager_a=200, manager_b=404, official=403, anonymous=403),
    ),
    "check-out at A": (
        "post",
        lambda a, b, s: f"/api/stays/{s.pk}/check-out/",
        {"destination": "home"},
        dict(hq=200, manager_a=200, manager_b=404, official=403, anonymous=403),
    ),
    "transfer A to B": (
        "post",
        lambda a, b, s: f"/api/stays/{s.pk}/transfer/",
        lambda a, b: {"to_shelter": b.pk},
        dict(hq=201, manager_a=201, manager_b=404, official=403, anonymous=403),
    ),
    "check-in at A": (
        "post",
        lambda a, b, s: "/api/check-ins/",
        lambda a, b: {"shelter": a.pk, "evacuees": []},
        dict(hq=400, manager_a=400, manager_b=400, official=403, anonymous=403),
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", API_EXPECTATIONS)
def test_each_endpoint_answers_each_persona_as_the_policy_says(
    endpoint, persona, people, api_as, shelter_a, shelter_b, resident
):
    method, url, body, expected = API_EXPECTATIONS[endpoint]
    client = api_as(people[persona])

    if callable(body):
        body = body(shelter_a, shelter_b)
    response = getattr(client, method)(url(shelter_a, shelter_b, resident[1]), body, format="json")

    assert response.status_code == expected[persona], response.content


def test_a_manager_cannot_check_anyone_into_a_shelter_that_is_not_theirs(api_as, manager_b, shelter_a):
    person = EvacueeFactory()

    response = api_as(manager_b).post(
        "/api/check-ins/", {"shelter": shelter_a.pk, "evacuees": [person.pk]}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_the_api_shelter_list_of_a_manager_holds_only_their_shelters(api_as, manager_a, shelter_a, shelter_b):
    response = api_as(manager_a).get("/api/shelters/")

    assert [s["id"] for s in response.json()["results"]] == [shelter_a.pk]


def test_the_openapi_schema_and_docs_are_served_to_signed_in_users(api_as, hq):
    client = api_as(hq)

    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
