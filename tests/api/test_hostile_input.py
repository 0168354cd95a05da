"""Hostile input gets a clear 4xx naming the field, never a 500 (issue 10, part 5).

Each input below answered 500 before (most only on PostgreSQL, which CI runs: its text refuses NUL
characters and its columns refuse numbers beyond their range); now each is a 400 in the one error
shape on the API, or the error page naming the field on HTML pages.
"""

import json
from datetime import time

import pytest

from supply.models import Depot, Item, Stock
from surveys import selectors as survey_selectors
from surveys.answering import links

pytestmark = pytest.mark.django_db

BEYOND_BIGINT = "99999999999999999999"
BEYOND_INT32 = 2**31


@pytest.fixture
def depot(db):
    depot = Depot.objects.create(
        code="central", name="中央備蓄倉庫", latitude="37.4947", longitude="139.9299", dispatch_opens=time(8)
    )
    Stock.objects.create(depot=depot, item=Item.objects.get(code="water"), on_hand=10)
    return depot


def _json(body) -> dict:
    return {"data": json.dumps(body), "content_type": "application/json"}


# name: (who, method, url(world, depot), request options(world, depot), field the refusal names)
API_INPUTS = {
    "limit beyond bigint": ("hq", "get", lambda w, d: f"/api/shelters/?limit={BEYOND_BIGINT}", None, "limit"),
    "offset beyond bigint": ("hq", "get", lambda w, d: f"/api/shelters/?offset={BEYOND_BIGINT}", None, "offset"),
    "NUL in the people search": ("hq", "get", lambda w, d: "/api/evacuees/?search=%E8%8A%B1%00", None, "search"),
    "NUL in a JSON key": (
        "hq",
        "post",
        lambda w, d: "/api/evacuees/",
        lambda w, d: _json({"name": "避難 太郎", "support_needs": {"wheel\x00chair": ""}}),
        "support_needs.wheel\\0chair",
    ),
    "NUL in a household member": (
        "hq",
        "post",
        lambda w, d: "/api/households/",
        lambda w, d: _json({"members": [{"name": "避難 一郎"}, {"name": "\x00"}]}),
        "members[1].name",
    ),
    "JSON 1,000 levels deep": (
        "hq",
        "post",
        lambda w, d: "/api/check-ins/",
        lambda w, d: {"data": "[" * 1000 + "]" * 1000, "content_type": "application/json"},
        "body",
    ),
    "supply request quantity beyond int32": (
        "manager_a",
        "post",
        lambda w, d: "/api/supply/requests/",
        lambda w, d: _json({"shelter": w.stay.shelter_id, "item": "water", "quantity": BEYOND_INT32}),
        "quantity",
    ),
    "stock adjustment beyond int32": (
        "hq",
        "post",
        lambda w, d: "/api/supply/stock/adjust/",
        lambda w, d: _json({"depot": d.pk, "item": "water", "change": BEYOND_INT32}),
        "change",
    ),
    "stock adjustment taking the stock beyond int32": (
        "hq",
        "post",
        lambda w, d: "/api/supply/stock/adjust/",
        lambda w, d: _json({"depot": d.pk, "item": "water", "change": 2**31 - 1}),
        "change",
    ),
    "follow-up shelter beyond bigint": (
        "hq",
        "get",
        lambda w, d: f"/api/follow-ups/?shelter={BEYOND_BIGINT}",
        None,
        "shelter",
    ),
    "supply request shelter in superscript digits": (
        "hq",
        "get",
        lambda w, d: "/api/supply/requests/?shelter=%C2%B2",
        None,
        "shelter",
    ),
    "idempotency key longer than its column": (
        "hq",
        "post",
        lambda w, d: "/api/check-ins/",
        lambda w, d: {
            **_json({"shelter": w.stay.shelter_id, "evacuees": [w.nowhere.pk]}),
            "HTTP_IDEMPOTENCY_KEY": "k" * 65,
        },
        "Idempotency-Key",
    ),
}


@pytest.mark.parametrize("name", API_INPUTS)
def test_a_hostile_api_input_is_a_400_naming_the_field(name, api_as, people, world, depot):
    who, method, url, options, field = API_INPUTS[name]
    client = api_as(people[who])

    response = getattr(client, method)(url(world, depot), **(options(world, depot) if options else {}))

    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert field in error["fields"], error
    assert error["message"] and error["fields"][field]


def test_a_nested_field_at_fault_is_named_as_the_client_wrote_it(api_as, hq):
    members = [{"name": "避難 一郎"}, {"name": "x" * 101}]

    response = api_as(hq).post("/api/households/", {"members": members}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["members[1].name"]


def _survey_post(world) -> dict:
    version = survey_selectors.current_version()
    return {"version": version.pk, "submission_key": "k1", "token": "\x00"}


# name: (who, method, url(world), data(world), field named on the page)
PAGE_INPUTS = {
    "report end date in year 1": ("official", "get", lambda w: "/reports/?end=0001-01-01", None, "end"),
    "NUL in the shelter list's search": ("hq", "get", lambda w: "/shelters/?q=%00", None, "q"),
    "NUL in the public survey form": (
        "anonymous",
        "post",
        lambda w: links.survey_path(w.stay.shelter_id),
        _survey_post,
        "token",
    ),
}


@pytest.mark.parametrize("name", PAGE_INPUTS)
def test_a_hostile_form_input_is_a_400_page_naming_the_field(name, as_user, people, world):
    who, method, url, data, field = PAGE_INPUTS[name]
    client = as_user(people[who])

    response = getattr(client, method)(url(world), data(world) if data else None)

    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="topbar"' in page
    assert f'name="{field}"' in page or f"<code>{field}</code>" in page
