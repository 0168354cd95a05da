"""The phone survey asks first whether the answers may be linked to the resident (consent/asking.py).

Refused: the answers are still stored and counted (the day totals, the needs), but without the
person: no follow-up case by name, no request in their name. That is what the poster without a
code already does, so a refusal gives the resident nothing they would not expect.
"""

import pytest

from consent.models import ConsentDecision, ConsentRecord, subject_of
from consent.rules import Method, Timing
from consent.services import Change, consents_record
from supply.models import Request
from surveys import services
from surveys.answering import links
from surveys.models import FollowUp, Response, ResponseChannel
from tests.surveys.conftest import k6_answers, k6_post

pytestmark = pytest.mark.django_db

DISTRESSED = k6_post([4, 4, 4, 4, 4, 4])


def post(client, shelter, version, token, key="k1", **extra):
    data = {"version": version.pk, "submission_key": key, "token": token, **DISTRESSED, **extra}
    return client.post(links.survey_path(shelter), data)


@pytest.fixture
def token(resident_a, hq):
    return services.survey_token_issue(evacuee=resident_a, actor=hq).token


def test_the_slips_qr_code_opens_the_page_with_the_question_first(client, shelter_a, version, token, resident_a):
    page = client.get(links.survey_path(shelter_a, token)).content.decode()

    assert 'id="consent-question"' in page
    assert page.index('id="consent-question"') < page.index('name="q-')
    assert 'name="consent-survey" value="refused"' in page
    assert resident_a.name not in page


def test_the_poster_without_a_code_asks_nothing(client, shelter_a, version):
    assert 'id="consent-question"' not in client.get(links.survey_path(shelter_a)).content.decode()


def test_answers_sent_before_the_question_is_answered_are_not_recorded_and_the_question_is_shown(
    client, shelter_a, version, token
):
    response = post(client, shelter_a, version, token)

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="consent-question"' in page and 'class="errorlist"' in page
    assert 'value="always" checked' in page  # the answers are kept for the second tap
    assert not Response.objects.exists() and not ConsentRecord.objects.exists()


def test_given_links_the_answers_and_records_the_consent_from_the_phone_survey(
    client, shelter_a, version, token, resident_a
):
    response = post(client, shelter_a, version, token, **{"consent-survey": "given"})

    assert response.status_code == 302
    assert Response.objects.get().respondent == resident_a
    assert FollowUp.objects.filter(evacuee=resident_a).exists()
    record = ConsentRecord.objects.get(subject=subject_of(resident_a))
    assert record.method == Method.PHONE_SURVEY
    assert sorted(ConsentDecision.objects.values_list("recipient", flat=True)) == ["health", "hq", "shelter_staff"]


def test_refused_stores_the_answers_without_the_person(client, shelter_a, version, token, resident_a):
    response = post(
        client,
        shelter_a,
        version,
        token,
        **{"consent-survey": "refused", "q-needs": "water", "q-needs_water_quantity": "2"},
    )

    assert response.status_code == 302
    stored = Response.objects.get()
    assert stored.respondent is None and stored.k6_score == 24 and stored.shelter == shelter_a
    assert not FollowUp.objects.exists()
    assert Request.objects.get().evacuee is None
    assert set(ConsentDecision.objects.values_list("decision", flat=True)) == {"refused"}


def test_a_resident_who_answered_before_is_not_asked_again_and_their_refusal_holds(
    client, shelter_a, version, token, resident_a
):
    post(client, shelter_a, version, token, key="first", **{"consent-survey": "refused"})

    page = client.get(links.survey_path(shelter_a, token)).content.decode()
    second = post(client, shelter_a, version, token, key="second")

    assert 'id="consent-question"' not in page
    assert second.status_code == 302
    assert list(Response.objects.values_list("respondent", flat=True)) == [None, None]


def test_every_time_asks_again(client, shelter_a, version, token, resident_a):
    consents_record(
        subject=subject_of(resident_a),
        changes=[Change("survey", r, "peacetime", "given") for r in ("shelter_staff", "hq", "health")],
        method=Method.RESIDENT_PAGE,
        timing=Timing.EVERY_TIME,
    )

    assert 'id="consent-question"' in client.get(links.survey_path(shelter_a, token)).content.decode()


def test_a_refusal_for_any_recipient_keeps_staff_entry_anonymous_too(shelter_a, version, resident_a, manager_a):
    consents_record(
        subject=subject_of(resident_a),
        changes=[Change("survey", "health", "peacetime", "refused")],
        method=Method.RESIDENT_PAGE,
    )

    response, _created = services.response_submit(
        version=version,
        shelter=shelter_a,
        raw_answers=k6_answers([4] * 6),
        channel=ResponseChannel.PROXY,
        submission_key="proxy-1",
        respondent=resident_a,
        entered_by=manager_a,
    )

    assert response.respondent is None
    assert not FollowUp.objects.exists()


def test_an_invalid_answer_to_the_question_names_its_field(client, shelter_a, version, token):
    response = post(client, shelter_a, version, token, **{"consent-survey": "perhaps"})

    assert response.status_code == 400
    assert not Response.objects.exists() and not ConsentRecord.objects.exists()
