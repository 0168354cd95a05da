import pytest

from access.models import PersonalDataAccess
from shelters import services
from shelters.models import Stay
from tests.factories import EvacueeFactory, HouseholdFactory, ShelterFactory

pytestmark = pytest.mark.django_db


def test_every_error_has_the_same_json_shape_naming_the_field(api_as, hq):
    response = api_as(hq).post("/api/evacuees/", {"name": "", "birth_date": "1990-13-01"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"name", "birth_date"}
    assert error["message"].startswith(("name", "birth_date"))


def test_a_domain_refusal_has_the_same_shape(api_as, hq):
    closed = ShelterFactory(status="closed")

    response = api_as(hq).post(
        "/api/check-ins/", {"shelter": closed.pk, "evacuees": [EvacueeFactory().pk]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "shelter_not_open"
    assert response.json()["error"]["fields"] == {"shelter": [response.json()["error"]["message"]]}


def test_a_check_in_retried_with_the_same_idempotency_key_header_returns_the_first_stays(api_as, manager_a, shelter_a):
    household = HouseholdFactory(members=2)
    client = api_as(manager_a)
    # The household stays nowhere: the manager found it at the desk by a member's walk-in ID.
    body = {"shelter": shelter_a.pk, "household": household.pk, "lookup": household.representative.walk_in_id}

    first = client.post("/api/check-ins/", body, format="json", headers={"Idempotency-Key": "tablet-7-0001"})
    second = client.post("/api/check-ins/", body, format="json", headers={"Idempotency-Key": "tablet-7-0001"})

    assert (first.status_code, second.status_code) == (201, 200)
    assert [s["id"] for s in first.json()] == [s["id"] for s in second.json()]
    assert Stay.objects.count() == 2


def test_search_finds_people_by_kana_phone_and_a_scanned_qr_payload(api_as, hq):
    person = EvacueeFactory(name_kana="ホシ ハナコ", phone="0242-00-1234", city_os_id="AIZU-0000123")
    client = api_as(hq)

    for query in [
        "ホシ",
        "0242001234",
        "CITYOS:AIZU-0000123",
        '{"id": "AIZU-0000123"}',
        "https://id.example/p?id=AIZU-0000123",
    ]:
        results = client.get("/api/evacuees/", {"search": query}).json()["results"]
        assert [r["id"] for r in results] == [person.pk], query


def test_reading_a_person_through_the_api_is_recorded(api_as, hq):
    person = EvacueeFactory()

    api_as(hq).get(f"/api/evacuees/{person.pk}/")

    assert PersonalDataAccess.objects.filter(viewer=hq, evacuee=person, purpose="api.evacuee_detail").exists()


def test_a_household_is_registered_with_its_members_and_support_needs(api_as, manager_a):
    body = {
        "members": [
            {"name": "渡部 一郎", "name_kana": "ワタナベ イチロウ", "support_needs": {"dialysis": "月水金"}},
            {"name": "渡部 花子", "birth_date": "2024-05-01", "support_needs": {"infant": ""}},
        ]
    }

    response = api_as(manager_a).post("/api/households/", body, format="json")

    assert response.status_code == 201
    household = response.json()
    assert len(household["members"]) == 2
    assert household["representative"] == household["members"][0]["id"]


def test_an_unknown_support_need_names_the_member_and_registers_nobody(api_as, manager_a):
    body = {"members": [{"name": "渡部 一郎"}, {"name": "渡部 花子", "support_needs": {"unicorn": ""}}]}

    response = api_as(manager_a).post("/api/households/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["members[1].support_needs"]
    assert not HouseholdFactory._meta.model.objects.exists()


def test_the_shelter_list_filters_by_status_and_reports_support_counts(api_as, hq, shelter_a):
    ShelterFactory(status="standby")
    person = EvacueeFactory()
    services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"support_needs": {"wheelchair": ""}})
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)

    results = api_as(hq).get("/api/shelters/", {"status": "open"}).json()["results"]

    assert [(r["id"], r["occupancy"], r["support_counts"]) for r in results] == [(shelter_a.pk, 1, {"wheelchair": 1})]


def test_an_official_sees_shelter_figures_without_any_names(api_as, official, shelter_a, hq):
    person = EvacueeFactory(name="見えない 名前")
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)

    body = api_as(official).get(f"/api/shelters/{shelter_a.pk}/").content.decode()

    assert '"occupancy":1' in body
    assert "見えない" not in body


def test_the_list_of_stays_can_be_filtered_to_open_ones_of_a_shelter(api_as, hq, shelter_a, shelter_b):
    stay = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq).stays[0]
    services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq)
    closed = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq).stays[0]
    services.stay_check_out(stay_id=closed.pk, actor=hq, destination="relatives")

    results = api_as(hq).get("/api/stays/", {"shelter": shelter_a.pk, "open": "true"}).json()["results"]

    assert [r["id"] for r in results] == [stay.pk]
