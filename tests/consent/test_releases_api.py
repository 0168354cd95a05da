"""The API of disasters and legal-basis releases: the same services, the one error shape."""

import pytest
from django.urls import reverse

from consent.models import LegalRelease
from shelters.models import Disaster
from tests.consent import helpers

RELEASE = {
    "rule": "roster_disaster_release",
    "categories": ["basic", "support"],
    "recipients": ["supporters"],
    "scope": "roster",
    "reason": "安否確認",
    "hours": 12,
}


def test_hq_declares_a_disaster_and_a_release_and_revokes_it(api_as, hq):
    api = api_as(hq)
    response = api.post(reverse("disaster-list"), {"name": "会津地震"}, format="json")
    assert response.status_code == 201
    disaster_id = response.json()["id"]
    response = api.post(reverse("release-list"), {**RELEASE, "disaster": disaster_id}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["article"], body["status"], body["categories"]) == (
        "災害対策基本法 第49条の11第3項",
        "active",
        ["basic", "support"],
    )
    listed = api.get(reverse("release-list")).json()["results"]
    assert [r["id"] for r in listed] == [body["id"]] and listed[0]["reason"] == "安否確認"
    assert api.post(reverse("release-revoke", args=[body["id"]])).json()["status"] == "revoked"
    again = api.post(reverse("release-revoke", args=[body["id"]]))
    assert again.status_code == 409 and again.json()["error"]["fields"] == {
        "release": ["この提供はすでに終了しています。"]
    }
    assert api.post(reverse("disaster-close", args=[disaster_id])).json()["closed_at"] is not None
    assert [d["id"] for d in api.get(reverse("disaster-list")).json()["results"]] == [disaster_id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rule": "shelter_operation"}, "rule"),
        ({"categories": ["stays"]}, "categories"),
        ({"categories": ["nonsense"]}, "categories"),
        ({"recipients": ["family"]}, "recipients"),
        ({"hours": 10_000}, "hours"),
        ({"hours": None, "expires_at": "2000-01-01T00:00:00+09:00"}, "expires_at"),
        ({"reason": ""}, "reason"),
        ({"shelters": [2**70]}, "shelters"),
        ({"disaster": 2**70}, "disaster"),
    ],
)
def test_a_bad_release_is_a_400_naming_the_field(api_as, hq, changes, field):
    disaster = helpers.open_disaster(hq)
    response = api_as(hq).post(reverse("release-list"), {**RELEASE, "disaster": disaster.pk, **changes}, format="json")
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert [name.split("[")[0] for name in fields] == [field], fields  # `categories[0]` names the item
    assert not LegalRelease.objects.exists()


def test_a_huge_id_in_the_path_is_a_404(api_as, hq):
    assert api_as(hq).post(f"/api/releases/{2**70}/revoke/").status_code == 404
    assert api_as(hq).post(f"/api/disasters/{2**70}/close/").status_code == 404


@pytest.mark.parametrize(("persona", "listed"), [("official", 200), ("manager_a", 403), (None, 403)])
def test_only_hq_writes_and_officials_read_without_the_reason(request, api_as, hq, persona, listed):
    disaster = helpers.open_disaster(hq)
    helpers.release(hq, disaster, "roster_disaster_release")
    api = api_as(request.getfixturevalue(persona) if persona else None)
    response = api.get(reverse("release-list"))
    assert response.status_code == listed
    if listed == 200:
        assert [r["reason"] for r in response.json()["results"]] == [None]
    assert api.get(reverse("disaster-list")).status_code == 403
    assert api.post(reverse("release-list"), {**RELEASE, "disaster": disaster.pk}, format="json").status_code == 403
    assert api.post(reverse("disaster-list"), {"name": "x"}, format="json").status_code == 403
    assert api.post(reverse("disaster-close", args=[disaster.pk])).status_code == 403
    assert Disaster.objects.get().closed_at is None and LegalRelease.objects.count() == 1
