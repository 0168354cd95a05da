"""Every URL is classified in access/endpoints.py, and every personal endpoint goes through access.

The URLconf and the OpenAPI schema are walked: a page or endpoint that is not listed fails, so
nobody adds one that reaches personal data without saying how. Each personal endpoint is then
probed: outsiders (the manager of the other shelter, an official, anonymous) are refused or see
nobody, and the permitted read leaves PersonalDataAccess rows.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from access import endpoints
from access.models import PersonalDataAccess
from tests.access.conftest import World

pytestmark = pytest.mark.django_db


def url_names(patterns=None, namespace=None):
    """(name, route) of every pattern, namespaced as reverse() takes it; admin left out."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in endpoints.EXEMPT_NAMESPACES:
                continue
            inner = pattern.namespace if namespace is None else f"{namespace}:{pattern.namespace}"
            yield from url_names(pattern.url_patterns, inner if pattern.namespace else namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, str(pattern.pattern)


def test_every_url_pattern_is_classified_as_personal_or_not():
    unnamed = [route for name, route in url_names() if not name]
    unclassified = sorted({name for name, _route in url_names() if name and endpoints.classification(name) is None})

    assert unnamed == []
    assert unclassified == []


def test_the_classification_lists_no_url_that_is_gone_and_none_twice():
    names = {name for name, _route in url_names()}
    listed = set(endpoints.PERSONAL) | set(endpoints.OWN) | set(endpoints.NOT_PERSONAL)

    assert sorted(listed - names) == []
    assert set(endpoints.PERSONAL) & set(endpoints.NOT_PERSONAL) == set()
    assert set(endpoints.OWN) & (set(endpoints.PERSONAL) | set(endpoints.NOT_PERSONAL)) == set()


def test_every_personal_endpoint_names_an_access_function_from_the_access_layer():
    for name, entry in {**endpoints.PERSONAL, **endpoints.OWN}.items():
        assert entry.through, name
        for function in entry.through:
            assert function.__module__.startswith("access."), (name, function)


def test_every_path_of_the_api_schema_is_classified(api_as, hq):
    schema = api_as(hq).get("/api/schema/", {"format": "json"}).json()
    unclassified = []
    for path in schema["paths"]:
        match = resolve(path.replace("{id}", "1").replace("{pk}", "1"))
        if endpoints.classification(match.view_name) is None:
            unclassified.append((path, match.view_name))

    assert schema["paths"]
    assert unclassified == []


# --- Probes -------------------------------------------------------------------------------------
# name: (method, url(world, a, b), body(world, a, b), who may, what marks the resident in a body)


def _name(world: World) -> str:
    return world.resident.name


PROBES = {
    "shelters:desk": ("get", lambda w, a, b: reverse("shelters:desk", args=[a.pk]), lambda w, a, b: {"q": "避難"}),
    "shelters:desk_check_in": (
        "post",
        lambda w, a, b: reverse("shelters:desk_check_in", args=[a.pk]),
        lambda w, a, b: {"evacuees": [w.nowhere.pk], "mode": "inside", "q": w.nowhere.walk_in_id},
    ),
    "shelters:desk_consent": (
        "post",
        lambda w, a, b: reverse("shelters:desk_consent", args=[a.pk]),
        lambda w, a, b: {"evacuees": [w.resident.pk], f"ask-{w.resident.pk}-support": "given"},
    ),
    "shelters:residents": ("get", lambda w, a, b: reverse("shelters:residents", args=[a.pk]), None),
    "shelters:check_out": (
        "post",
        lambda w, a, b: reverse("shelters:check_out", args=[a.pk, w.stay.pk]),
        lambda w, a, b: {"destination": "home"},
    ),
    "shelters:transfer": (
        "post",
        lambda w, a, b: reverse("shelters:transfer", args=[a.pk, w.stay.pk]),
        lambda w, a, b: {"to_shelter": b.pk},
    ),
    "shelters:evacuee": ("get", lambda w, a, b: reverse("shelters:evacuee", args=[w.resident.pk]), None),
    "shelters:legal_hold": (
        "post",
        lambda w, a, b: reverse("shelters:legal_hold", args=[w.resident.pk]),
        lambda w, a, b: {"type": "set", "reason": "probe"},
    ),
    "surveys:slip": ("get", lambda w, a, b: reverse("surveys:slip", args=[w.resident.pk]), None),
    "surveys:proxy": ("get", lambda w, a, b: reverse("surveys:proxy", args=[a.pk]), None),
    "follow_ups:list": ("get", lambda w, a, b: reverse("follow_ups:list"), None),
    "follow_ups:detail": ("get", lambda w, a, b: reverse("follow_ups:detail", args=[w.follow_up.pk]), None),
    "dashboard:shelter": ("get", lambda w, a, b: reverse("dashboard:shelter", args=[a.pk]), None),
    "supply:shelter": ("get", lambda w, a, b: reverse("supply:shelter", args=[a.pk]), None),
    "shelter-residents": ("get", lambda w, a, b: f"/api/shelters/{a.pk}/residents/", None),
    "evacuee-list": ("get", lambda w, a, b: "/api/evacuees/", None),
    "evacuee-detail": ("get", lambda w, a, b: f"/api/evacuees/{w.resident.pk}/", None),
    "household-list": ("get", lambda w, a, b: "/api/households/", None),
    "household-detail": ("get", lambda w, a, b: f"/api/households/{w.resident.household_id}/", None),
    "stay-list": ("get", lambda w, a, b: "/api/stays/", None),
    "stay-detail": ("get", lambda w, a, b: f"/api/stays/{w.stay.pk}/", None),
    "stay-check-out": (
        "post",
        lambda w, a, b: f"/api/stays/{w.stay.pk}/check-out/",
        lambda w, a, b: {"destination": "home"},
    ),
    "stay-transfer": (
        "post",
        lambda w, a, b: f"/api/stays/{w.stay.pk}/transfer/",
        lambda w, a, b: {"to_shelter": b.pk},
    ),
    "desk-questions": (
        "get",
        lambda w, a, b: f"/api/desk/questions/?shelter={a.pk}&evacuees={w.resident.pk}",
        None,
    ),
    "desk-answers": (
        "post",
        lambda w, a, b: "/api/desk/answers/",
        lambda w, a, b: {"shelter": a.pk, "answers": [{"evacuee": w.resident.pk, "answers": {"contact": "given"}}]},
    ),
    "check-in-list": (
        "post",
        lambda w, a, b: "/api/check-ins/",
        lambda w, a, b: {"shelter": a.pk, "evacuees": [w.nowhere.pk], "lookup": w.nowhere.walk_in_id},
    ),
    "batch-apply": (
        "post",
        lambda w, a, b: "/api/batch/",
        lambda w, a, b: {
            "items": [
                {
                    "type": "check_in",
                    "idempotency_key": "probe",
                    "shelter": a.pk,
                    "evacuees": [w.nowhere.pk],
                    "lookup": w.nowhere.walk_in_id,
                }
            ]
        },
    ),
    "supply-request-list": ("get", lambda w, a, b: "/api/supply/requests/", None),
    "supply-request-detail": ("get", lambda w, a, b: f"/api/supply/requests/{w.request.pk}/", None),
    "supply-request-cancel": ("post", lambda w, a, b: f"/api/supply/requests/{w.request.pk}/cancel/", None),
    "follow-up-list": ("get", lambda w, a, b: "/api/follow-ups/", None),
    "follow-up-detail": ("get", lambda w, a, b: f"/api/follow-ups/{w.follow_up.pk}/", None),
    "follow-up-change-state": (
        "post",
        lambda w, a, b: f"/api/follow-ups/{w.follow_up.pk}/state/",
        lambda w, a, b: {"state": "contacted"},
    ),
    "residents:corrections": ("get", lambda w, a, b: reverse("residents:corrections"), None),
}
CHECK_INS = {"shelters:desk_check_in", "check-in-list", "batch-apply"}  # the person read is the one checked in
# Who makes the permitted read, where it is not the manager of shelter A.
READERS = {"residents:corrections": "hq", "shelters:legal_hold": "hq"}


def test_every_personal_endpoint_has_a_probe():
    assert sorted(PROBES) == sorted(endpoints.PERSONAL)


def _request(client, name, world, a, b):
    method, url, body = PROBES[name]
    arguments = body(world, a, b) if body else {}
    if name.startswith(("shelters:", "surveys:", "follow_ups:", "dashboard:", "supply:", "residents:")):
        return getattr(client, method)(url(world, a, b), arguments)
    return getattr(client, method)(url(world, a, b), arguments, format="json")


def _person(name, world):
    return world.nowhere if name in CHECK_INS else world.resident


@pytest.mark.parametrize("name", sorted(PROBES))
def test_a_permitted_read_of_a_personal_endpoint_is_recorded_and_a_write_is_not(
    name, world, people, as_user, api_as, shelter_a, shelter_b
):
    reader = people[READERS.get(name, "manager_a")]
    client = (api_as if "-" in name else as_user)(reader)

    response = _request(client, name, world, shelter_a, shelter_b)

    assert response.status_code < 400, (name, response.status_code)
    recorded = PersonalDataAccess.objects.filter(viewer=reader, evacuee=_person(name, world)).exists()
    # An endpoint that only writes for people (the desk's answers) shows nothing, so records nothing.
    assert recorded == endpoints.PERSONAL[name].shows, name


@pytest.mark.parametrize("persona", ["manager_b", "official", "anonymous"])
@pytest.mark.parametrize("name", sorted(PROBES))
def test_an_outsider_is_refused_by_each_personal_endpoint_or_sees_nobody(
    name, persona, people, world, as_user, api_as, shelter_a, shelter_b
):
    client = (api_as if "-" in name else as_user)(people[persona])

    response = _request(client, name, world, shelter_a, shelter_b)

    refused = response.status_code in (403, 404) or (
        response.status_code == 302 and "/login/" in response.get("Location", "")
    )
    if not refused:
        assert response.status_code == 200, (name, persona, response.status_code)
        assert _person(name, world).name not in response.content.decode(), (name, persona)
    assert not PersonalDataAccess.objects.filter(evacuee=_person(name, world)).exists(), (name, persona)
