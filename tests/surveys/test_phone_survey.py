"""The survey residents answer on their phones from the poster's QR code, without logging in."""

import pytest
from django.test import override_settings
from django.urls import reverse

from shelters import services as shelter_services
from supply.models import Request
from surveys import services
from surveys.answering import links
from surveys.models import FollowUp, Response, ResponseChannel
from tests.factories import EvacueeFactory, ShelterFactory
from tests.surveys.conftest import k6_post, status_of

pytestmark = pytest.mark.django_db

PERSONAS = ["hq", "manager_a", "manager_b", "official", "anonymous"]
# The resident's answer to the question asked first (consent/asking.py): link my answers to me.
LINK = {"consent-survey": "given"}


def answer_url(shelter, token=""):
    return links.survey_path(shelter, token)


def post(client, shelter, data, key="k1"):
    return client.post(answer_url(shelter), {"version": data.pop("version"), "submission_key": key, **data})


# --- The poster ----------------------------------------------------------------------------------

POSTER_EXPECTED = {"hq": 200, "manager_a": 200, "manager_b": 403, "official": 403, "anonymous": "login"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_poster_is_for_the_shelters_managers_and_hq(as_user, people, persona, shelter_a, version):
    response = as_user(people[persona]).get(reverse("surveys:poster", args=[shelter_a.pk]))

    assert status_of(response) == POSTER_EXPECTED[persona]


def test_the_poster_shows_a_qr_code_of_the_shelters_unguessable_survey_address(as_user, manager_a, shelter_a, version):
    page = as_user(manager_a).get(reverse("surveys:poster", args=[shelter_a.pk])).content.decode()

    assert "<svg" in page
    assert f"http://testserver/s/{links.shelter_key(shelter_a)}/" in page
    assert f"/s/{shelter_a.pk}/" not in page


def test_a_survey_address_with_a_forged_or_other_key_is_not_found(client, shelter_a, shelter_b, version):
    genuine = links.shelter_key(shelter_a)
    forged = f"{shelter_b.pk}.{genuine.split('.', 1)[1]}"

    assert client.get(f"/s/{forged}/").status_code == 404
    assert client.get(f"/s/{shelter_a.pk}/").status_code == 404
    assert client.post(f"/s/{forged}/", {"version": version.pk, "submission_key": "x"}).status_code == 404
    assert not Response.objects.exists()


# --- Answering -----------------------------------------------------------------------------------


def test_the_phone_page_opens_without_login_with_the_k6_wording_and_notice(client, shelter_a, version):
    page = client.get(answer_url(shelter_a)).content.decode()

    assert "過去30日の間に、どのくらいの頻度で次のことがありましたか" in page
    assert "Kessler" in page and "Furukawa" in page
    assert "神経過敏に感じましたか" in page
    assert 'name="submission_key"' in page
    assert 'id="survey-conditions"' in page


def test_a_past_week_version_asks_about_the_past_week(client, shelter_a, version):
    version.recall_period = "past_week"
    version.save(update_fields=["recall_period"])

    page = client.get(answer_url(shelter_a)).content.decode()

    assert "この1週間に、どのくらいの頻度で次のことがありましたか" in page


def test_an_anonymous_answer_is_stored_for_the_shelter_and_thanks_without_showing_answers(client, shelter_a, version):
    data = {
        "version": version.pk,
        **k6_post([1, 1, 1, 1, 1, 1]),
        "q-needs": ["water", "blankets"],
        "q-needs_water_quantity": "3",
        "q-needs_blankets_quantity": "",
        "q-comment": "トイレが寒いです",
    }

    response = post(client, shelter_a, data)

    assert response.status_code == 302
    stored = Response.objects.get()
    assert (stored.shelter, stored.respondent, stored.channel, stored.k6_score) == (shelter_a, None, "phone", 6)
    assert stored.answers["needs_water_quantity"] == 3
    assert {(r.item.code, r.quantity) for r in Request.objects.all()} == {("water", 3), ("blankets", None)}
    thanks = client.get(response["Location"]).content.decode()
    assert "トイレが寒いです" not in thanks and "6" not in thanks.split("<main>")[1]


def test_a_double_tap_stores_one_response(client, shelter_a, version):
    data = {"version": version.pk, **k6_post([0, 0, 0, 0, 0, 0])}

    first = post(client, shelter_a, dict(data), key="same-key")
    second = post(client, shelter_a, dict(data), key="same-key")

    assert first.status_code == second.status_code == 302
    assert Response.objects.count() == 1


def test_an_answer_to_a_hidden_question_is_dropped(client, shelter_a, version):
    post(client, shelter_a, {"version": version.pk, "q-needs": ["food"], "q-needs_water_quantity": "5"})

    assert "needs_water_quantity" not in Response.objects.get().answers


@pytest.mark.parametrize(
    ("field", "value", "message_part"),
    [
        ("q-no_such_question", "1", "no_such_question: このアンケートにはその設問はありません。"),
        ("q-k6_1", "sometimes-ish", "選択肢から1つ選んでください。"),
        ("q-needs", "gold", "不明な選択肢です: gold。"),
        ("q-issue_toilets", "9", "0から4の数で答えてください。"),
        ("q-needs_water_quantity", "100000", "999以下を入力してください。"),
        ("q-needs_water_quantity", "-2", "1以上を入力してください。"),
    ],
)
def test_a_tampered_answer_is_refused_next_to_its_question_and_nothing_is_stored(
    client, shelter_a, version, field, value, message_part
):
    data = {"version": version.pk, "q-needs": "water", "q-comment": "keep me", field: value}
    if field == "q-needs":
        data["q-needs"] = value

    response = post(client, shelter_a, data)

    assert response.status_code == 400
    page = response.content.decode()
    assert message_part in page
    assert "keep me" in page  # what was entered is kept
    assert not Response.objects.exists()
    assert not Request.objects.exists()


def test_a_required_question_left_empty_is_refused(client, shelter_a, version):
    question = version.questions.get(code="k6_1")
    question.required = True
    question.save(update_fields=["required"])

    response = post(client, shelter_a, {"version": version.pk, **k6_post([None, 1, 1, 1, 1, 1])})

    assert response.status_code == 400
    page = response.content.decode()
    k6_1 = page.split('id="question-k6_1"')[1].split("</fieldset>")[0]
    assert "この設問は必須です。" in k6_1
    assert not Response.objects.exists()


def test_a_form_of_another_survey_version_that_does_not_exist_is_refused(client, shelter_a, version):
    response = post(client, shelter_a, {"version": "987654", **k6_post([1, 1, 1, 1, 1, 1])})

    assert response.status_code == 400
    assert not Response.objects.exists()


def test_a_shelter_not_open_yet_refuses_answers(client, version):
    standby = ShelterFactory(status="standby", opened_at=None)

    response = post(client, standby, {"version": version.pk, **k6_post([1, 1, 1, 1, 1, 1])})

    assert response.status_code == 400
    assert not Response.objects.exists()


# --- Personal tokens ---------------------------------------------------------------------------


def test_an_answer_with_a_token_is_linked_to_the_resident_and_a_distressed_one_is_followed_up(
    client, shelter_a, resident_a, version, hq
):
    token = services.survey_token_issue(evacuee=resident_a, actor=hq).token
    page = client.get(answer_url(shelter_a, token)).content.decode()
    assert token in page
    assert resident_a.name not in page  # the token never reveals whose it is

    response = post(client, shelter_a, {"version": version.pk, "token": token, **LINK, **k6_post([3, 3, 2, 2, 2, 2])})

    assert response.status_code == 302
    stored = Response.objects.get()
    assert stored.respondent == resident_a and stored.k6_score == 14
    assert FollowUp.objects.get(evacuee=resident_a).shelter == shelter_a


def test_a_token_is_accepted_in_lower_case_and_with_spaces(client, shelter_a, resident_a, version, hq):
    token = services.survey_token_issue(evacuee=resident_a, actor=hq).token

    post(client, shelter_a, {"version": version.pk, "token": f" {token[:5].lower()} {token[5:]} ", **LINK})

    assert Response.objects.get().respondent == resident_a


@pytest.mark.parametrize("kind", ["unknown", "revoked"])
def test_an_invalid_or_revoked_token_is_refused_without_saying_whose_it_is(
    client, shelter_a, resident_a, version, hq, kind
):
    token = services.survey_token_issue(evacuee=resident_a, actor=hq).token
    if kind == "revoked":
        services.survey_token_issue(evacuee=resident_a, actor=hq)
    else:
        token = "ZZZZZZZZZZ"

    response = post(client, shelter_a, {"version": version.pk, "token": token, **k6_post([1, 1, 1, 1, 1, 1])})

    assert response.status_code == 400
    page = response.content.decode()
    token_field = page.split('id="question-token"')[1].split("</fieldset>")[0]
    assert "このアンケートコードは無効です" in token_field
    assert resident_a.name not in page
    assert 'value="always" checked' in page or 'value="a_little" checked' in page  # answers kept
    assert not Response.objects.exists()


def test_a_token_of_a_resident_of_another_shelter_is_refused(client, shelter_a, resident_b, version, hq):
    token = services.survey_token_issue(evacuee=resident_b, actor=hq).token

    response = post(client, shelter_a, {"version": version.pk, "token": token, **k6_post([4, 4, 4, 4, 4, 4])})

    assert response.status_code == 400
    assert "別の避難所のもの" in response.content.decode()
    assert resident_b.name not in response.content.decode()
    assert not Response.objects.exists()
    assert not FollowUp.objects.exists()


def test_a_token_of_a_person_staying_nowhere_is_accepted_at_any_shelter(client, shelter_a, version, hq):
    person = EvacueeFactory()
    token = services.survey_token_issue(evacuee=person, actor=hq).token

    post(client, shelter_a, {"version": version.pk, "token": token, **LINK})

    assert Response.objects.get().respondent == person


def test_the_shelter_link_never_reads_answers_back(client, shelter_a, resident_a, version, hq):
    token = services.survey_token_issue(evacuee=resident_a, actor=hq).token
    post(
        client,
        shelter_a,
        {"version": version.pk, "token": token, **LINK, "q-comment": "秘密の相談", **k6_post([4] * 6)},
    )
    key = links.shelter_key(shelter_a)

    pages = [
        client.get(f"/s/{key}/"),
        client.get(f"/s/{key}/?t={token}"),
        client.get(f"/s/{key}/thanks/"),
        # Re-sending the same submission key returns the thank-you, never the stored response.
        post(client, shelter_a, {"version": version.pk, "token": token, **LINK}, key="k1"),
    ]

    for page in pages:
        body = page.content.decode()
        assert "秘密の相談" not in body
        assert resident_a.name not in body
        assert "checked" not in body
    assert client.get(f"/s/{key}/responses/").status_code == 404


# --- Rate limit ----------------------------------------------------------------------------------


@override_settings(SURVEY_RATE_LIMIT_PER_IP=3, SURVEY_RATE_LIMIT_PER_SHELTER=100)
def test_the_public_form_refuses_more_answers_from_one_address_with_429(client, shelter_a, version):
    statuses = [post(client, shelter_a, {"version": version.pk}, key=f"k{n}").status_code for n in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert Response.objects.count() == 3
    other = client.post(answer_url(shelter_a), {"version": version.pk, "submission_key": "k9"}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


@override_settings(SURVEY_RATE_LIMIT_PER_IP=100, SURVEY_RATE_LIMIT_PER_SHELTER=2)
def test_the_public_form_limits_answers_per_shelter_poster(client, shelter_a, shelter_b, version):
    for n, address in enumerate(["10.0.0.1", "10.0.0.2", "10.0.0.3"]):
        last = client.post(
            answer_url(shelter_a), {"version": version.pk, "submission_key": f"a{n}"}, REMOTE_ADDR=address
        )

    assert last.status_code == 429
    assert "ten minutes" in last.content.decode() or "10分" in last.content.decode()
    assert client.post(answer_url(shelter_b), {"version": version.pk, "submission_key": "b"}).status_code == 302


@override_settings(SURVEY_RATE_LIMIT_PER_IP=3, SURVEY_RATE_LIMIT_PER_SHELTER=10)
def test_one_address_hammering_the_form_does_not_close_it_for_another(client, shelter_a, version):
    """The per-address and per-shelter limits are independent: a POST refused for its address
    does not count against the shelter's poster."""
    hammering = [
        client.post(answer_url(shelter_a), {"version": version.pk, "submission_key": f"h{n}"}, REMOTE_ADDR="10.0.0.66")
        for n in range(50)
    ]
    assert [response.status_code for response in hammering].count(302) == 3

    neighbour = client.post(
        answer_url(shelter_a), {"version": version.pk, "submission_key": "n"}, REMOTE_ADDR="10.0.0.7"
    )

    assert neighbour.status_code == 302
    # The shelter's limit still holds for many addresses: 3 + 1 answered so far, 6 more, then 429.
    others = [
        client.post(
            answer_url(shelter_a), {"version": version.pk, "submission_key": f"o{n}"}, REMOTE_ADDR=f"10.1.0.{n}"
        )
        for n in range(7)
    ]
    assert [response.status_code for response in others] == [302] * 6 + [429]
    assert Response.objects.count() == 10


# --- Slips ---------------------------------------------------------------------------------------

SLIP_EXPECTED = {"hq": 200, "manager_a": 200, "manager_b": 404, "official": 403, "anonymous": "login"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_residents_slip_is_for_staff_who_may_see_the_resident(as_user, people, persona, resident_a, version):
    response = as_user(people[persona]).get(reverse("surveys:slip", args=[resident_a.pk]))

    assert status_of(response) == SLIP_EXPECTED[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_staff_who_may_see_the_resident_issue_a_slip(as_user, people, persona, resident_a, version):
    response = as_user(people[persona]).post(reverse("surveys:slip", args=[resident_a.pk]))

    expected = {"hq": 302, "manager_a": 302}.get(persona, SLIP_EXPECTED[persona])
    assert status_of(response) == expected
    assert resident_a.survey_tokens.exists() == (persona in ("hq", "manager_a"))


def test_issuing_a_slip_prints_the_token_and_a_qr_code_of_the_residents_shelter(
    as_user, manager_a, resident_a, shelter_a, version
):
    client = as_user(manager_a)

    client.post(reverse("surveys:slip", args=[resident_a.pk]))
    page = client.get(reverse("surveys:slip", args=[resident_a.pk])).content.decode()

    token = resident_a.survey_tokens.get(revoked_at__isnull=True).token
    assert token in page
    assert "<svg" in page
    assert f"/s/{links.shelter_key(shelter_a)}/?t={token}" in page


def test_issuing_again_revokes_the_old_slip(as_user, hq, resident_a, version):
    client = as_user(hq)
    client.post(reverse("surveys:slip", args=[resident_a.pk]))
    client.post(reverse("surveys:slip", args=[resident_a.pk]))

    assert resident_a.survey_tokens.count() == 2
    assert resident_a.survey_tokens.filter(revoked_at__isnull=True).count() == 1


def test_the_person_page_links_to_the_slip(as_user, manager_a, resident_a):
    page = as_user(manager_a).get(reverse("shelters:evacuee", args=[resident_a.pk])).content.decode()

    assert reverse("surveys:slip", args=[resident_a.pk]) in page


def test_a_resident_who_left_gets_a_slip_without_a_shelter_qr_code(as_user, hq, resident_a, version):
    stay = resident_a.stays.get()
    shelter_services.stay_check_out(stay_id=stay.pk, actor=hq, destination="home")
    client = as_user(hq)

    client.post(reverse("surveys:slip", args=[resident_a.pk]))
    page = client.get(reverse("surveys:slip", args=[resident_a.pk])).content.decode()

    assert resident_a.survey_tokens.get().token in page
    assert "<svg" not in page


def test_a_proxy_entry_channel_is_not_accepted_from_the_phone(client, shelter_a, version):
    post(client, shelter_a, {"version": version.pk, "channel": "proxy"})

    assert Response.objects.get().channel == ResponseChannel.PHONE


# --- Everyone may open the public pages; none of them shows anyone's answers -------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_persona_opens_the_public_survey_and_thank_you_pages(
    as_user, people, persona, shelter_a, resident_a, version, hq
):
    token = services.survey_token_issue(evacuee=resident_a, actor=hq).token
    services.response_submit(
        version=version,
        shelter=shelter_a,
        raw_answers={"comment": "ほかの人の回答"},
        channel=ResponseChannel.PHONE,
        submission_key="earlier",
        respondent=resident_a,
    )
    client = as_user(people[persona])
    key = links.shelter_key(shelter_a)

    for url in [f"/s/{key}/", f"/s/{key}/?t={token}", f"/s/{key}/thanks/"]:
        response = client.get(url)
        assert response.status_code == 200
        assert "ほかの人の回答" not in response.content.decode()


def test_the_desks_check_in_message_links_each_persons_survey_slip(as_user, manager_a, shelter_a):
    # Two people sharing a phone, found at the desk by that number (they stay nowhere yet).
    people_checked_in = EvacueeFactory.create_batch(2, phone="0242-11-2233")
    client = as_user(manager_a)

    response = client.post(
        reverse("shelters:desk_check_in", args=[shelter_a.pk]),
        {
            "evacuees": [person.pk for person in people_checked_in],
            "mode": "inside",
            "idempotency_key": "desk-1",
            "q": "0242112233",
        },
        follow=True,
    )

    page = response.content.decode()
    for person in people_checked_in:
        assert reverse("surveys:slip", args=[person.pk]) in page
    assert "アンケート用紙を印刷" in page


@pytest.mark.parametrize("key", ["", "x" * 300])
def test_a_missing_or_oversized_submission_key_is_refused_and_the_form_comes_back_with_a_fresh_one(
    client, shelter_a, version, key
):
    response = client.post(answer_url(shelter_a), {"version": version.pk, "submission_key": key, "q-comment": "残す"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "送信キーが必要です。" in page and "残す" in page
    assert 'name="submission_key" value=""' not in page
    assert not Response.objects.exists()
