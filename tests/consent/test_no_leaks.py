"""Nothing leaks: a resident who refused their name (the basic category) to shelter staff is shown
to their shelter's manager nowhere by name: not on a page, in the API, a CSV, a socket snapshot or
event, the follow-up pages or an error page. HQ, who has a basis (the standing rule), sees it.
The person is still counted, and the pages say why the name is missing."""

import json
from datetime import date

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.urls import reverse

from consent.models import subject_of
from consent.rules import Method
from consent.services import Change, consents_record
from surveys.models import FollowUp
from tests.consent import helpers
from tests.sockets import connect, receive
from tests.surveys.follow_up_helpers import k6_answers, submit

SECRETS = (helpers.SECRET_NAME, helpers.SECRET_KANA, "秘匿", "ヒトク")
REFUSED_MARKER = "氏名非表示（本人が提供を拒否）"


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked through {where}"


@pytest.fixture
def refused(shelter_a):
    """On the roster, needing support, with an open follow-up case; refused basic to shelter staff."""
    person = helpers.resident(shelter_a)
    submit(shelter_a, k6_answers(18), respondent=person)
    helpers.refuse_everything(person, ["shelter_staff"], categories=["basic"])
    return person


def page_urls(shelter, person, follow_up):
    return {
        "residents page": reverse("shelters:residents", args=[shelter.pk]),
        "residents page searched by name": reverse("shelters:residents", args=[shelter.pk]) + "?q=秘",
        "desk search by name": reverse("shelters:desk", args=[shelter.pk]) + "?q=%E7%A7%98",
        "desk search by id": reverse("shelters:desk", args=[shelter.pk]) + f"?q={person.walk_in_id}",
        "person page": reverse("shelters:evacuee", args=[person.pk]),
        "survey slip": reverse("surveys:slip", args=[person.pk]),
        "proxy survey entry": reverse("surveys:proxy", args=[shelter.pk]),
        "shelter dashboard": reverse("dashboard:shelter", args=[shelter.pk]),
        "follow-up list": reverse("follow_ups:list"),
        "follow-up detail": reverse("follow_ups:detail", args=[follow_up.pk]),
        "supply page": reverse("supply:shelter", args=[shelter.pk]),
        "error page (another person's id)": reverse("shelters:evacuee", args=[person.pk + 1000]),
    }


def api_urls(shelter, person, follow_up):
    return {
        "evacuee list": reverse("evacuee-list"),
        "evacuee search by name": reverse("evacuee-list") + "?search=%E7%A7%98",
        "evacuee search by id": reverse("evacuee-list") + f"?search={person.walk_in_id}",
        "evacuee detail": reverse("evacuee-detail", args=[person.pk]),
        "stay list": reverse("stay-list"),
        "stay detail": reverse("stay-detail", args=[person.open_stay_id]),
        "household list": reverse("household-list"),
        "household detail": reverse("household-detail", args=[person.household_id]),
        "shelter residents": reverse("shelter-residents", args=[shelter.pk]),
        "follow-up list": reverse("follow-up-list"),
        "follow-up detail": reverse("follow-up-detail", args=[follow_up.pk]),
        "error (bad id)": reverse("evacuee-detail", args=[person.pk + 1000]),
    }


def csv_urls():
    return {
        f"report CSV {table}": reverse("reports:csv", args=[table]) + f"?start={date.today():%Y-%m-%d}"
        for table in ("daily", "shelters", "shelter-days", "living-issues", "needs")
    }


def _with_stay(person):
    person.open_stay_id = person.stays.get(checked_out_at__isnull=True).pk
    return person


def test_the_refused_name_reaches_the_manager_nowhere(refused, manager_a, shelter_a, as_user, api_as):
    person = _with_stay(refused)
    follow_up = FollowUp.objects.get(evacuee=person)
    client = as_user(manager_a)
    for where, url in {**page_urls(shelter_a, person, follow_up), **csv_urls()}.items():
        response = client.get(url)
        assert response.status_code in (200, 404), (where, response.status_code)
        assert_no_secret(response.content.decode(), where)
    api = api_as(manager_a)
    for where, url in api_urls(shelter_a, person, follow_up).items():
        response = api.get(url)
        assert response.status_code in (200, 404), (where, response.status_code)
        assert_no_secret(response.content.decode(), where)


def test_the_pages_say_why_the_name_is_missing_and_still_count_the_person(
    refused, manager_a, shelter_a, as_user, api_as
):
    person = _with_stay(refused)
    follow_up = FollowUp.objects.get(evacuee=person)
    client = as_user(manager_a)
    for where in ("residents page", "desk search by id", "person page", "follow-up list", "follow-up detail"):
        page = client.get(page_urls(shelter_a, person, follow_up)[where]).content.decode()
        assert REFUSED_MARKER in page, where
        assert "ご本人がこの情報の提供を拒否しています" in page, where  # the explanation, as a tooltip
    residents = client.get(reverse("shelters:residents", args=[shelter_a.pk]))
    assert len(residents.context["stays"]) == 1
    # A name search does not confirm who they are; their ID finds them (and says why no name).
    assert client.get(page_urls(shelter_a, person, follow_up)["desk search by name"]).context["result_count"] == 0
    assert client.get(page_urls(shelter_a, person, follow_up)["desk search by id"]).context["result_count"] == 1
    assert api_as(manager_a).get(api_urls(shelter_a, person, follow_up)["evacuee search by name"]).json()["count"] == 0
    assert api_as(manager_a).get(api_urls(shelter_a, person, follow_up)["evacuee search by id"]).json()["count"] == 1
    assert (
        len(client.get(page_urls(shelter_a, person, follow_up)["residents page searched by name"]).context["stays"])
        == 0
    )
    body = api_as(manager_a).get(reverse("evacuee-detail", args=[person.pk])).json()
    assert (body["name"], body["withheld"]) == ("", {"basic": "refused"})
    assert body["phone"] == helpers.SECRET_PHONE  # only the refused category is withheld
    stays = api_as(manager_a).get(reverse("stay-list")).json()["results"]
    assert [(s["evacuee_name"], s["evacuee_withheld"]) for s in stays] == [("", {"basic": "refused"})]
    members = api_as(manager_a).get(reverse("household-detail", args=[person.household_id])).json()["members"]
    assert [(m["name"], m["withheld"]) for m in members] == [("", {"basic": "refused"})]


def test_a_person_listed_twice_is_masked_both_times(refused, manager_a, hq, shelter_a, api_as):
    """Two stays of one person in the stays list are two objects of the same person: both masked."""
    from shelters import services
    from shelters.models import Destination

    stay = refused.stays.get(checked_out_at__isnull=True)
    services.stay_check_out(stay_id=stay.pk, actor=hq, destination=Destination.HOME)
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[refused.pk], actor=hq)
    body = api_as(manager_a).get(reverse("stay-list")).content.decode()
    assert body.count('"evacuee_withheld":{"basic":"refused"}') == 2
    assert_no_secret(body, "the stays API with two stays of one person")


def test_hq_sees_the_name_with_the_standing_rule(refused, hq, shelter_a, as_user, api_as):
    person = _with_stay(refused)
    follow_up = FollowUp.objects.get(evacuee=person)
    client = as_user(hq)
    for where in ("residents page", "person page", "follow-up detail", "desk search by name"):
        assert helpers.SECRET_NAME in client.get(page_urls(shelter_a, person, follow_up)[where]).content.decode(), where
    assert api_as(hq).get(reverse("evacuee-detail", args=[person.pk])).json()["name"] == helpers.SECRET_NAME


def test_hq_without_a_basis_does_not_see_it_either(refused, hq, shelter_a, as_user, settings):
    settings.CONSENT_STANDING_RULES = []
    page = as_user(hq).get(reverse("shelters:residents", args=[shelter_a.pk])).content.decode()
    assert_no_secret(page, "HQ's residents page without a basis")
    assert "氏名非表示（同意なし）" in page


def test_the_openapi_schema_documents_withheld(as_user, hq):
    schema = as_user(hq).get(reverse("schema") + "?format=json").content.decode()
    data = json.loads(schema)
    evacuee = data["components"]["schemas"]["Evacuee"]["properties"]["withheld"]
    assert evacuee["additionalProperties"]["enum"] == ["refused", "not_asked"]
    assert "withheld" in data["components"]["schemas"]["Stay"]["properties"]["evacuee_withheld"]["description"]


# --- Sockets ------------------------------------------------------------------------------------

live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


async def _frames(socket, *, until_quiet=1.0):
    frames = []
    while not await socket.receive_nothing(timeout=until_quiet):
        frames.append(await socket.receive_from())
    return frames


@live
def test_the_socket_snapshot_and_lists_never_carry_the_refused_name(shelter_a, manager_a, hq):
    person = helpers.resident(shelter_a)
    submit(shelter_a, k6_answers(18), respondent=person)
    helpers.refuse_everything(person, ["shelter_staff"], categories=["basic"])

    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        snapshot = await socket.receive_from(timeout=3)
        # Anything that refreshes the lists: a newcomer checked in, a case answered again.
        newcomer = await database_sync_to_async(helpers.resident)(
            shelter_a, name="新規 花子", kana="シンキ ハナコ", phone="0242-33-4455"
        )
        await database_sync_to_async(submit)(shelter_a, k6_answers(20), respondent=newcomer)
        frames = await _frames(socket)
        await socket.disconnect()
        return snapshot, frames

    snapshot, frames = run(body)
    for text in [snapshot, *frames]:
        assert_no_secret(text, json.loads(text)["type"])
    data = json.loads(snapshot)["data"]
    assert [(p["name"], p["withheld"]) for p in data["support_list"]] == [("", {"basic": "refused"})]
    assert [(f["name"], f["withheld"]) for f in data["follow_ups"]] == [("", {"basic": "refused"})]
    kinds = {json.loads(text)["type"] for text in frames}
    assert {"support_list", "follow_up_list"} <= kinds
    lists = [json.loads(text) for text in frames if json.loads(text)["type"] in ("support_list", "follow_up_list")]
    assert any("新規 花子" in json.dumps(message, ensure_ascii=False) for message in lists)


@live
def test_a_changed_consent_refreshes_open_dashboards(shelter_a, manager_a):
    """Refusing hides the name from a dashboard already open; giving consent shows it again."""
    person = helpers.resident(shelter_a)

    def record(decision):
        consents_record(
            subject=subject_of(person),
            changes=[Change("basic", "shelter_staff", "peacetime", decision)],
            method=Method.RESIDENT_PAGE,
        )

    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        snapshot = await receive(socket)
        await database_sync_to_async(record)("refused")
        after_refusal = await _frames(socket)
        await database_sync_to_async(record)("given")
        after_consent = await _frames(socket)
        await socket.disconnect()
        return snapshot, after_refusal, after_consent

    snapshot, after_refusal, after_consent = run(body)
    assert [p["name"] for p in snapshot["data"]["support_list"]] == [helpers.SECRET_NAME]

    def support_lists(frames):
        return [
            json.loads(text)["data"]["support_list"] for text in frames if json.loads(text)["type"] == "support_list"
        ]

    assert [p["name"] for p in support_lists(after_refusal)[-1]] == [""]
    assert_no_secret("".join(after_refusal), "the refresh after a refusal")
    assert [p["name"] for p in support_lists(after_consent)[-1]] == [helpers.SECRET_NAME]


@live
def test_a_consent_change_of_someone_staying_elsewhere_refreshes_nothing_here(shelter_a, shelter_b, manager_a):
    helpers.resident(shelter_a)
    elsewhere = helpers.resident(shelter_b, name="他所 三郎", kana="ヨソ サブロウ", phone="0242-44-5566")

    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        await receive(socket)
        await database_sync_to_async(helpers.decide)(elsewhere, "basic", "shelter_staff", "peacetime", "refused")
        frames = await _frames(socket)
        await socket.disconnect()
        return frames

    assert run(body) == []


def test_a_manager_cannot_overwrite_what_is_withheld_from_them(refused, manager_a, api_as):
    api = api_as(manager_a)
    url = reverse("evacuee-detail", args=[refused.pk])
    response = api.patch(url, {"name": "上書き 太郎", "phone": "0242-55-6677"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["fields"] == {"name": ["あなたには非表示の情報です。"]}
    refused.refresh_from_db()
    assert (refused.name, refused.phone) == (helpers.SECRET_NAME, helpers.SECRET_PHONE)
    response = api.patch(url, {"phone": "0242-55-6677"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == ""
    refused.refresh_from_db()
    assert (refused.name, refused.phone) == (helpers.SECRET_NAME, "0242-55-6677")
