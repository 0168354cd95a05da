"""GET /api/cityos/shelters/: our shelters' live status for the City OS, behind the token it holds."""

import pytest
from rest_framework.test import APIClient

from common.throttles import FailedTokenThrottle
from shelters import services
from shelters.models import ShelterStatus
from tests.factories import EvacueeFactory, ShelterFactory

pytestmark = pytest.mark.django_db

URL = "/api/cityos/shelters/"
TOKEN = "city-os-shelter-token-for-tests"
# The contract with the City OS, written out on purpose rather than read from
# CityOSShelterSerializer.Meta.fields: a test deriving it from the serializer would pass when a field
# (a personal one, say) was added there. A new field is a change made here too, knowingly.
FIELDS = {
    "id",
    "code",
    "common_id",
    "name",
    "name_kana",
    "name_en",
    "kind",
    "status",
    "occupancy",
    "outside_count",
    "capacity",
    "full",
    "latitude",
    "longitude",
    "source",
    "updated_at",
}


@pytest.fixture
def token(settings):
    settings.CITYOS_SHELTER_API_TOKEN = TOKEN
    return TOKEN


def city_os(token_value: str | None = TOKEN) -> APIClient:
    api = APIClient()
    if token_value is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_value}")
    return api


def test_the_city_os_reads_each_shelters_live_status(token, shelter_a, hq):
    person = EvacueeFactory(name="会津 花子", phone="0242-11-2233", address="会津若松市追手町")
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)

    response = city_os().get(URL)

    assert response.status_code == 200
    [shelter] = response.json()["results"]
    assert set(shelter) == FIELDS
    assert shelter["id"] == shelter_a.pk and shelter["occupancy"] == 1 and shelter["capacity"] == 10
    assert shelter["status"] == "open" and shelter["full"] is False
    body = response.content.decode()
    for personal in ("会津 花子", "0242-11-2233", "追手町", person.walk_in_id):
        assert personal not in body


def test_a_shelter_at_capacity_or_declared_full_is_full(token):
    reached = ShelterFactory(capacity=1, occupancy=1)
    declared = ShelterFactory(capacity=50, status=ShelterStatus.FULL)
    room = ShelterFactory(capacity=50, occupancy=3)

    full = {s["id"]: s["full"] for s in city_os().get(URL).json()["results"]}

    assert full == {reached.pk: True, declared.pk: True, room.pk: False}


@pytest.mark.parametrize("presented", [None, "", "wrong-token", TOKEN + "x", TOKEN[:-1]])
def test_without_the_right_token_the_answer_is_401(token, shelter_a, presented):
    response = city_os(presented).get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert shelter_a.name not in response.content.decode()


def test_a_signed_in_staff_member_without_the_token_is_refused(token, as_user, hq, shelter_a):
    assert as_user(hq).get(URL).status_code == 401


def test_the_endpoint_is_off_without_a_token_setting(settings, shelter_a):
    settings.CITYOS_SHELTER_API_TOKEN = ""

    assert city_os("").get(URL).status_code == 404
    assert city_os("anything").get(URL).status_code == 404


def test_it_is_read_only(token):
    assert city_os().post(URL, {}, format="json").status_code == 405


def test_pages_are_bounded(token):
    ShelterFactory.create_batch(3)

    first = city_os().get(URL, {"limit": 2}).json()
    second = city_os().get(URL, {"limit": 2, "offset": 2}).json()

    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    assert len(second["results"]) == 1
    assert {s["id"] for s in first["results"]}.isdisjoint({s["id"] for s in second["results"]})
    for bad in ({"limit": 501}, {"limit": 0}, {"offset": -1}, {"limit": "9" * 30}):
        response = city_os().get(URL, bad)
        assert response.status_code == 400, bad
        assert set(response.json()["error"]["fields"]) == set(bad)


def test_wrong_tokens_are_counted_per_address(token, monkeypatch):
    monkeypatch.setattr(FailedTokenThrottle, "THROTTLE_RATES", {"failed_token": "2/hour"})

    codes = [city_os("wrong").get(URL).status_code for _ in range(3)]

    assert codes == [401, 401, 429]
    assert city_os().get(URL).status_code == 429  # the right one too, until the window passes


def test_the_schema_lists_it_with_its_bearer_token(api_as, hq):
    schema = api_as(hq).get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"][URL]["get"]
    assert operation["security"] == [{"cityOSToken": []}]
    # What the City OS's integrators read is the same contract as the answer.
    assert set(schema["components"]["schemas"]["CityOSShelter"]["properties"]) == FIELDS
    assert schema["components"]["securitySchemes"]["cityOSToken"]["scheme"] == "bearer"
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert parameters["limit"]["maximum"] == 500
