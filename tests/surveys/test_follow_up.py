"""The follow-up list: its lifecycle and history, who may see and move it, and the live dashboards."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import transaction
from django.urls import reverse

from access.models import PersonalDataAccess
from common.errors import ApplicationError
from surveys import services
from surveys.models import FollowUp, FollowUpState
from surveys.suppression import suppress, suppress_mean, suppress_share
from tests.factories import EvacueeFactory
from tests.sockets import connect, receive
from tests.surveys.follow_up_helpers import k6_answers, submit

pytestmark = pytest.mark.django_db

PERSONAS = ["hq", "manager_a", "manager_b", "official", "anonymous"]


@pytest.fixture
def people(hq, manager_a, manager_b, official):
    return {"hq": hq, "manager_a": manager_a, "manager_b": manager_b, "official": official, "anonymous": None}


@pytest.fixture
def case_a(shelter_a):
    """An open follow-up at shelter A: 会津 苦子 answered with a K6 of 18."""
    person = EvacueeFactory(name="会津 苦子", name_kana="アイヅ クルコ")
    submit(shelter_a, k6_answers(18), respondent=person)
    return FollowUp.objects.get(evacuee=person)


def status_of(response):
    if response.status_code == 302 and "/login/" in response["Location"]:
        return "login"
    return response.status_code


# --- Lifecycle and history ----------------------------------------------------------------------


def test_a_case_moves_from_new_through_contacted_and_referred_to_closed_with_its_history(case_a, hq, manager_a):
    steps = [
        (FollowUpState.CONTACTED, manager_a, "本人と面談"),
        (FollowUpState.REFERRED, manager_a, "保健師に連絡"),
        (FollowUpState.CLOSED, hq, ""),
    ]
    for to_state, actor, note in steps:
        services.follow_up_change_state(follow_up_id=case_a.pk, to_state=to_state, actor=actor, note=note)

    case_a.refresh_from_db()
    assert case_a.state == FollowUpState.CLOSED
    history = [(c.from_state, c.to_state, c.changed_by, c.note) for c in case_a.changes.order_by("changed_at", "id")]
    assert history == [
        ("", "new", None, ""),
        ("new", "contacted", manager_a, "本人と面談"),
        ("contacted", "referred", manager_a, "保健師に連絡"),
        ("referred", "closed", hq, ""),
    ]


@pytest.mark.parametrize("to_state", ["contacted", "new", "deleted"])
def test_a_closed_case_cannot_move_and_nothing_is_recorded(case_a, hq, to_state):
    services.follow_up_change_state(follow_up_id=case_a.pk, to_state=FollowUpState.CLOSED, actor=hq)

    with pytest.raises(ApplicationError) as refused:
        services.follow_up_change_state(follow_up_id=case_a.pk, to_state=to_state, actor=hq)

    assert refused.value.field == "state"
    assert case_a.changes.count() == 2


# --- Pages --------------------------------------------------------------------------------------

PAGE_EXPECTATIONS = {
    "list": ("get", lambda case: reverse("follow_ups:list"), dict(hq=200, manager_a=200, manager_b=200)),
    "detail": ("get", lambda case: reverse("follow_ups:detail", args=[case.pk]), dict(hq=200, manager_a=200)),
    "move": ("post", lambda case: reverse("follow_ups:detail", args=[case.pk]), dict(hq=302, manager_a=302)),
}


@pytest.mark.parametrize("page", PAGE_EXPECTATIONS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_each_follow_up_page_as_the_policy_says(page, persona, people, as_user, case_a):
    method, url, allowed = PAGE_EXPECTATIONS[page]
    expected = {**dict(manager_b=404, official=403, anonymous="login"), **allowed}[persona]
    client = as_user(people[persona])

    if method == "post":
        response = client.post(url(case_a), {"state": "contacted", "note": "電話した"})
    else:
        response = client.get(url(case_a))

    assert status_of(response) == expected
    moved = FollowUp.objects.get(pk=case_a.pk).state == FollowUpState.CONTACTED
    assert moved is (page == "move" and expected == 302)


def test_the_list_shows_name_shelter_score_band_and_state_to_hq(as_user, hq, case_a, shelter_a):
    html = as_user(hq).get(reverse("follow_ups:list")).content.decode()

    row = html[html.index(f'data-follow-up="{case_a.pk}"') :]
    row = row[: row.index("</tr>")]
    for shown in ["会津 苦子", shelter_a.name, ">18<", "13+", "新規"]:
        assert shown in row


def test_a_manager_cannot_see_another_shelters_follow_ups(as_user, manager_b, case_a, shelter_b):
    own = EvacueeFactory(name="別所 二郎")
    submit(shelter_b, k6_answers(16), respondent=own)

    html = as_user(manager_b).get(reverse("follow_ups:list")).content.decode()
    filtered = as_user(manager_b).get(reverse("follow_ups:list"), {"shelter": case_a.shelter_id}).content.decode()

    assert "別所 二郎" in html
    assert "会津 苦子" not in html
    assert "会津 苦子" not in filtered


def test_hq_filters_the_list_by_shelter_and_state(as_user, hq, case_a, shelter_b):
    other = EvacueeFactory(name="別所 二郎")
    submit(shelter_b, k6_answers(16), respondent=other)
    services.follow_up_change_state(follow_up_id=case_a.pk, to_state=FollowUpState.CONTACTED, actor=hq)
    url = reverse("follow_ups:list")

    def names(**query):
        html = as_user(hq).get(url, query).content.decode()
        return {name for name in ["会津 苦子", "別所 二郎"] if name in html}

    assert names() == {"会津 苦子", "別所 二郎"}
    assert names(shelter=shelter_b.pk) == {"別所 二郎"}
    assert names(state="contacted") == {"会津 苦子"}
    assert names(state="new", shelter=case_a.shelter_id) == set()


def test_closed_cases_leave_the_default_list_but_stay_under_all(as_user, hq, case_a):
    services.follow_up_change_state(follow_up_id=case_a.pk, to_state=FollowUpState.CLOSED, actor=hq)
    url = reverse("follow_ups:list")

    assert "会津 苦子" not in as_user(hq).get(url).content.decode()
    assert "会津 苦子" in as_user(hq).get(url, {"state": "all"}).content.decode()


def test_moving_a_case_on_its_page_records_who_and_the_note_in_the_history(as_user, manager_a, case_a):
    url = reverse("follow_ups:detail", args=[case_a.pk])

    as_user(manager_a).post(url, {"state": "referred", "note": "保健師に引き継ぎ"})
    html = as_user(manager_a).get(url).content.decode()

    history = html[html.index("follow-up-history") :]
    assert "manager_a" in history
    assert "保健師に引き継ぎ" in history
    assert FollowUp.objects.get(pk=case_a.pk).state == FollowUpState.REFERRED


def test_a_move_the_case_does_not_allow_is_refused_on_the_page_with_nothing_recorded(as_user, hq, case_a):
    services.follow_up_change_state(follow_up_id=case_a.pk, to_state=FollowUpState.CLOSED, actor=hq)

    response = as_user(hq).post(reverse("follow_ups:detail", args=[case_a.pk]), {"state": "contacted"})

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert case_a.changes.count() == 2


def test_looking_at_the_list_and_a_case_is_logged_as_a_view_of_personal_data(as_user, manager_a, case_a):
    as_user(manager_a).get(reverse("follow_ups:list"))
    as_user(manager_a).get(reverse("follow_ups:detail", args=[case_a.pk]))

    assert sorted(
        PersonalDataAccess.objects.filter(viewer=manager_a, evacuee=case_a.evacuee).values_list("purpose", flat=True)
    ) == ["page.follow_up_detail", "page.follow_up_list"]


@pytest.mark.parametrize(("persona", "shown"), [("hq", True), ("manager_a", True), ("official", False)])
def test_the_navigation_offers_the_follow_up_list_to_those_who_may_see_it(persona, shown, people, as_user):
    html = as_user(people[persona]).get(reverse("shelters:list")).content.decode()

    assert (f'href="{reverse("follow_ups:list")}"' in html) is shown


# --- API ----------------------------------------------------------------------------------------

API_EXPECTATIONS = {
    "list": ("get", lambda case: "/api/follow-ups/", dict(hq=200, manager_a=200, manager_b=200)),
    "detail": ("get", lambda case: f"/api/follow-ups/{case.pk}/", dict(hq=200, manager_a=200)),
    "move": ("post", lambda case: f"/api/follow-ups/{case.pk}/state/", dict(hq=200, manager_a=200)),
}


@pytest.mark.parametrize("endpoint", API_EXPECTATIONS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_each_follow_up_endpoint_as_the_policy_says(endpoint, persona, people, api_as, case_a):
    method, url, allowed = API_EXPECTATIONS[endpoint]
    expected = {**dict(manager_b=404, official=403, anonymous=403), **allowed}[persona]

    client = api_as(people[persona])
    if method == "post":
        response = client.post(url(case_a), {"state": "contacted"}, format="json")
    else:
        response = client.get(url(case_a))

    assert response.status_code == expected
    if expected >= 400:
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    if endpoint == "list" and expected == 200:
        names = [row["evacuee"]["name"] for row in response.json()["results"]]
        assert names == ([] if persona == "manager_b" else ["会津 苦子"])


def test_the_api_lists_a_case_with_its_score_band_and_history(api_as, hq, case_a, shelter_a):
    services.follow_up_change_state(follow_up_id=case_a.pk, to_state="contacted", actor=hq, note="訪問")

    row = api_as(hq).get("/api/follow-ups/", {"shelter": shelter_a.pk}).json()["results"][0]

    assert (row["evacuee"]["name"], row["shelter"]["id"], row["k6_score"], row["k6_band"], row["state"]) == (
        "会津 苦子",
        shelter_a.pk,
        18,
        "13+",
        "contacted",
    )
    assert [(c["to_state"], c["changed_by"], c["note"]) for c in row["changes"]] == [
        ("new", None, ""),
        ("contacted", "hq", "訪問"),
    ]


def test_a_refused_move_over_the_api_has_the_one_error_shape(api_as, hq, case_a):
    client = api_as(hq)
    client.post(f"/api/follow-ups/{case_a.pk}/state/", {"state": "closed"}, format="json")

    refused = client.post(f"/api/follow-ups/{case_a.pk}/state/", {"state": "contacted", "note": "x"}, format="json")
    unknown = client.post(f"/api/follow-ups/{case_a.pk}/state/", {"state": "lost"}, format="json")
    bad_filter = client.get("/api/follow-ups/", {"state": "lost"})

    for response in (refused, unknown, bad_filter):
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["state"]
    assert case_a.changes.count() == 2


# --- Suppression --------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, "<5"), (4, "<5"), (5, 5), (120, 120)])
def test_counts_of_one_to_four_are_shown_as_less_than_five(count, shown):
    assert suppress(count) == shown


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [(0, 0, None), (0, 4, "<5"), (3, 4, "<5"), (2, 40, "<5"), (0, 40, 0.0), (5, 40, 0.125), (40, 40, 1.0)],
)
def test_a_share_is_suppressed_when_its_base_or_its_count_is_a_small_cell(part, whole, shown):
    assert suppress_share(part, whole) == shown


def test_a_mean_over_fewer_than_five_respondents_is_suppressed():
    assert (suppress_mean(0, 0), suppress_mean(40, 3), suppress_mean(70, 5)) == (None, "<5", 14.0)


# --- Live dashboards ----------------------------------------------------------------------------

live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


@live
def test_a_managers_socket_gets_the_follow_up_list_with_names_after_a_distressed_answer(manager_a, shelter_a):
    person = EvacueeFactory(name="会津 苦子")

    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        snapshot = await receive(socket)
        await database_sync_to_async(submit)(shelter_a, k6_answers(20), respondent=person)
        messages = [await receive(socket), await receive(socket)]
        await socket.disconnect()
        return snapshot, messages

    snapshot, messages = run(body)
    assert (snapshot["data"]["follow_ups"], snapshot["data"]["open_follow_ups"]) == ([], 0)
    event = next(m for m in messages if m["type"] == "follow_ups.changed")
    assert event["data"] == {"follow_ups": {"shelter": shelter_a.pk, "open": "<5"}}
    listed = next(m for m in messages if m["type"] == "follow_up_list")
    assert [(f["name"], f["state"]) for f in listed["data"]["follow_ups"]] == [("会津 苦子", "new")]


@live
def test_an_officials_socket_gets_only_the_suppressed_count_and_never_a_name(official, shelter_a, hq):
    person = EvacueeFactory(name="秘密 花子", name_kana="ヒミツ ハナコ")
    submit(shelter_a, k6_answers(18), respondent=EvacueeFactory(name="秘密 一郎"))

    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", official)
        texts = [await socket.receive_from(timeout=3)]
        await database_sync_to_async(submit)(shelter_a, k6_answers(22), respondent=person)
        texts.append(await socket.receive_from(timeout=3))
        nothing_more = await socket.receive_nothing(timeout=1)
        await socket.disconnect()
        return texts, nothing_more

    texts, nothing_more = run(body)
    snapshot, event = (json.loads(text) for text in texts)
    assert all("秘密" not in text and "ヒミツ" not in text for text in texts)
    assert (snapshot["data"]["follow_ups"], snapshot["data"]["open_follow_ups"]) == (None, "<5")
    assert event["type"] == "follow_ups.changed"
    assert event["data"]["follow_ups"]["open"] == "<5"
    assert nothing_more


@live
def test_the_shelter_stream_counts_five_open_cases_as_five_and_closing_one_updates_it(official, hq, shelter_a):
    for total in (13, 14, 15, 16):
        submit(shelter_a, k6_answers(total), respondent=EvacueeFactory())
    fifth = EvacueeFactory()

    async def body():
        socket = await connect(f"/ws/shelters/{shelter_a.pk}/", official)
        await receive(socket)
        await database_sync_to_async(submit)(shelter_a, k6_answers(17), respondent=fifth)
        opened = await receive(socket)
        case = await database_sync_to_async(FollowUp.objects.get)(evacuee=fifth)
        await database_sync_to_async(services.follow_up_change_state)(follow_up_id=case.pk, to_state="closed", actor=hq)
        closed = await receive(socket)
        await socket.disconnect()
        return opened, closed

    opened, closed = run(body)
    assert opened["data"]["follow_ups"]["open"] == 5
    assert closed["data"]["follow_ups"]["open"] == "<5"
    assert closed["seq"] == opened["seq"] + 1


@live
def test_the_hq_socket_gets_the_stress_and_needs_widgets_with_small_cells_suppressed(hq, shelter_a):
    async def body():
        socket = await connect("/ws/city/", hq)
        snapshot = await receive(socket)
        await database_sync_to_async(submit)(shelter_a, {**k6_answers(20), "needs": ["water"]})
        event = await receive(socket)
        await socket.disconnect()
        return snapshot, event

    snapshot, event = run(body)
    assert snapshot["data"]["surveys"]["responses"] == 0
    assert snapshot["data"]["surveys"]["k6_13_share"] is None
    assert event["type"] == "surveys.summary"
    summary = event["data"]["surveys"]
    assert (summary["responses"], summary["scored"], summary["k6_13_share"], summary["k6_mean"]) == (
        "<5",
        "<5",
        "<5",
        "<5",
    )
    assert [(n["item"], n["requests"], n["quantity"]) for n in summary["needs"]] == [("water", "<5", None)]


@live
def test_an_import_of_many_answers_in_one_transaction_sends_one_summary_with_the_real_figures(hq, shelter_a):
    totals = [13, 14, 15, 16, 20, 10, None]

    def import_in_one_transaction():
        with transaction.atomic():
            for n, total in enumerate(totals):
                answers = k6_answers(total) if total is not None else {"comment": "無記入"}
                if n < 5:
                    answers |= {"needs": ["water", "blankets"], "needs_water_quantity": n + 1}
                else:
                    answers |= {"needs": ["blankets"]}
                submit(shelter_a, answers)

    async def body():
        socket = await connect("/ws/city/", hq)
        await receive(socket)
        await database_sync_to_async(import_in_one_transaction)()
        event = await receive(socket)
        nothing_more = await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
        return event, nothing_more

    event, nothing_more = run(body)
    summary = event["data"]["surveys"]
    assert nothing_more
    assert (summary["responses"], summary["scored"]) == (7, 6)
    assert summary["k6_13_share"] == pytest.approx(5 / 6)
    assert summary["k6_10_share"] == 1.0
    assert summary["k6_mean"] == pytest.approx(14.7)
    assert [(n["item"], n["requests"], n["quantity"]) for n in summary["needs"]] == [
        ("blankets", 7, None),
        ("water", 5, 15),
    ]


def test_the_dashboards_pages_embed_the_follow_ups_and_the_survey_widgets(as_user, hq, official, case_a, shelter_a):
    from tests.dashboard.test_pages import embedded

    shelter_url = reverse("dashboard:shelter", args=[shelter_a.pk])
    for_hq = as_user(hq).get(shelter_url)
    for_official = as_user(official).get(shelter_url)
    city = as_user(official).get(reverse("dashboard:hq"))

    assert [f["name"] for f in embedded(for_hq, "snapshot")["follow_ups"]] == ["会津 苦子"]
    assert embedded(for_official, "snapshot")["follow_ups"] is None
    assert embedded(for_official, "snapshot")["open_follow_ups"] == "<5"
    assert "会津 苦子" not in for_official.content.decode()
    assert embedded(city, "snapshot")["surveys"]["responses"] == "<5"
    assert 'id="needs-ranking"' in city.content.decode()


@live
def test_a_rolled_back_answer_sends_nothing_and_the_next_one_is_still_sent(hq, shelter_a):
    def rolled_back_then_stored():
        with pytest.raises(RuntimeError), transaction.atomic():
            submit(shelter_a, k6_answers(20), respondent=EvacueeFactory())
            raise RuntimeError("the import found a bad row further on")
        submit(shelter_a, k6_answers(3))

    async def body():
        city = await connect("/ws/city/", hq)
        shelter = await connect(f"/ws/shelters/{shelter_a.pk}/", hq)
        await receive(city)
        await receive(shelter)
        await database_sync_to_async(rolled_back_then_stored)()
        event = await receive(city)
        nothing_more = await city.receive_nothing(timeout=0.5) and await shelter.receive_nothing(timeout=0.5)
        await city.disconnect()
        await shelter.disconnect()
        return event, nothing_more

    event, nothing_more = run(body)
    assert event["type"] == "surveys.summary"
    assert event["data"]["surveys"]["responses"] == "<5"
    assert nothing_more


# --- Figures and query counts -------------------------------------------------------------------


def test_todays_figures_count_the_day_in_asia_tokyo(shelter_a):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from surveys.selectors import city_survey_summary

    tokyo = ZoneInfo("Asia/Tokyo")
    for hour in (23, 23, 23, 23, 23):  # the evening before, in Tokyo: 14:00 UTC
        submit(shelter_a, k6_answers(20), answered_at=datetime(2026, 11, 24, hour, 30, tzinfo=tokyo))
    for score in (2, 4, 10, 13, 24):  # after midnight in Tokyo, still the 24th in UTC
        submit(shelter_a, k6_answers(score), answered_at=datetime(2026, 11, 25, 0, 30, tzinfo=tokyo))

    summary = city_survey_summary(now=datetime(2026, 11, 25, 8, 0, tzinfo=tokyo))

    assert summary["date"] == "2026-11-25"
    assert (summary["responses"], summary["scored"]) == (5, 5)
    assert summary["k6_mean"] == pytest.approx(10.6)
    assert summary["k6_13_share"] == "<5"  # two of five: a figure about two people


def test_the_needs_ranking_puts_shown_figures_first_and_small_cells_in_catalogue_order(shelter_a):
    from surveys.selectors import needs_ranking

    for n in range(6):
        submit(shelter_a, {"needs": ["blankets", "water"] if n < 2 else ["blankets"]})
    submit(shelter_a, {"needs": ["food"]})

    assert [(n["item"], n["requests"]) for n in needs_ranking()] == [
        ("blankets", 6),
        ("water", "<5"),
        ("food", "<5"),
    ]


def test_a_need_stays_in_the_ranking_once_planned_and_leaves_it_when_received_or_cancelled(shelter_a):
    from supply.models import Request, RequestStatus
    from surveys.selectors import needs_ranking

    for _ in range(7):
        submit(shelter_a, {"needs": ["blankets"]})
    requests = list(Request.objects.order_by("pk"))
    Request.objects.filter(pk__in=[r.pk for r in requests[:3]]).update(status=RequestStatus.PLANNED)
    Request.objects.filter(pk=requests[3].pk).update(status=RequestStatus.DISPATCHED)
    assert [(n["item"], n["requests"]) for n in needs_ranking()] == [("blankets", 7)]

    Request.objects.filter(pk=requests[4].pk).update(status=RequestStatus.RECEIVED)
    Request.objects.filter(pk=requests[5].pk).update(status=RequestStatus.CANCELLED)

    assert [(n["item"], n["requests"]) for n in needs_ranking()] == [("blankets", 5)]


def test_the_follow_up_list_page_costs_the_same_queries_for_one_case_or_many(as_user, hq, case_a, shelter_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(hq)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("follow_ups:list"))
    for total in (14, 15, 16, 17):
        person = EvacueeFactory()
        submit(shelter_a, k6_answers(total), respondent=person)
        services.follow_up_change_state(
            follow_up_id=FollowUp.objects.get(evacuee=person).pk, to_state="contacted", actor=hq, note="電話"
        )
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("follow_ups:list"))

    assert len(five.captured_queries) == len(one.captured_queries)
