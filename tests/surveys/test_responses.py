"""`response_submit`, the one write path for an answer: refusals, repeats, follow-up and needs."""

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from common.errors import ApplicationError
from supply.models import Request, RequestOrigin, RequestStatus
from supply.services import NeedLine, requests_from_survey
from surveys import services
from surveys.models import FollowUp, FollowUpChange, FollowUpState, Question, Response
from tests.concurrency import run_together
from tests.factories import EvacueeFactory, ShelterFactory
from tests.surveys.follow_up_helpers import current_version, k6_answers, submit

pytestmark = pytest.mark.django_db


def row_counts() -> tuple[int, int, int, int]:
    return (Response.objects.count(), FollowUp.objects.count(), FollowUpChange.objects.count(), Request.objects.count())


# --- Refusals -----------------------------------------------------------------------------------


def test_a_half_filled_submission_is_refused_with_a_message_for_each_missing_question_and_writes_nothing(shelter_a, hq):
    Question.objects.filter(version=current_version(), is_k6_item=True).update(required=True)
    person = EvacueeFactory()
    half = {code: value for code, value in k6_answers(24).items() if code in ("k6_1", "k6_2", "k6_3")}
    before = row_counts()

    with pytest.raises(ApplicationError) as refused:
        submit(shelter_a, {**half, "needs": ["water"], "needs_water_quantity": 4}, respondent=person, actor=hq)

    assert refused.value.code == "invalid_answers"
    assert sorted(refused.value.fields) == ["k6_4", "k6_5", "k6_6"]
    assert all(messages and messages[0] for messages in refused.value.fields.values())
    assert row_counts() == before


def test_a_tampered_submission_is_refused_naming_every_bad_field_and_writes_nothing(shelter_a, hq):
    person = EvacueeFactory()
    tampered = {
        **k6_answers(20),
        "k6_1": "extremely",  # not an option
        "needs": ["water", "gold"],  # "gold" is not an option
        "needs_water_quantity": 5000,  # more than 999
        "issue_toilets": 9,  # a 0-4 scale
        "is_admin": "yes",  # no such question
    }
    before = row_counts()

    with pytest.raises(ApplicationError) as refused:
        submit(shelter_a, tampered, respondent=person, actor=hq)

    assert sorted(refused.value.fields) == ["is_admin", "issue_toilets", "k6_1", "needs"]
    assert row_counts() == before


def test_a_tampered_quantity_is_refused_when_its_item_is_chosen(shelter_a):
    before = row_counts()

    with pytest.raises(ApplicationError) as refused:
        submit(shelter_a, {"needs": ["water"], "needs_water_quantity": "12; DROP TABLE"})

    assert list(refused.value.fields) == ["needs_water_quantity"]
    assert row_counts() == before


def test_a_refusal_inside_a_larger_transaction_leaves_nothing_behind(shelter_a):
    person = EvacueeFactory()
    before = row_counts()

    with pytest.raises(ApplicationError), transaction.atomic():
        submit(shelter_a, k6_answers(20), respondent=person)
        submit(shelter_a, {"k6_1": "never", "needs": ["gold"]}, respondent=person)

    assert row_counts() == before


# --- Repeats ------------------------------------------------------------------------------------


def test_the_same_submission_key_twice_stores_once(shelter_a, hq):
    person = EvacueeFactory()
    answers = {**k6_answers(18), "needs": ["water"], "needs_water_quantity": 2}

    first, created_first = submit(shelter_a, answers, respondent=person, key="phone-7f3a", actor=hq)
    again, created_again = submit(shelter_a, answers, respondent=person, key="phone-7f3a", actor=hq)

    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk
    assert row_counts() == (1, 1, 1, 1)


# --- Follow-up ----------------------------------------------------------------------------------


def test_a_distressed_identifiable_resident_gets_one_open_follow_up(shelter_a):
    person = EvacueeFactory()

    response, _ = submit(shelter_a, k6_answers(13), respondent=person)

    follow_up = FollowUp.objects.get(evacuee=person)
    assert (follow_up.shelter_id, follow_up.response_id, follow_up.k6_score, follow_up.state) == (
        shelter_a.pk,
        response.pk,
        13,
        FollowUpState.NEW,
    )
    assert [(c.from_state, c.to_state, c.changed_by_id) for c in follow_up.changes.all()] == [("", "new", None)]


def test_a_score_of_12_puts_nobody_on_the_list(shelter_a):
    submit(shelter_a, k6_answers(12), respondent=EvacueeFactory())

    assert FollowUp.objects.count() == 0


def test_a_second_distressed_answer_refreshes_the_open_case_instead_of_opening_another(shelter_a, shelter_b, hq):
    person = EvacueeFactory()
    submit(shelter_a, k6_answers(14), respondent=person)
    first = FollowUp.objects.get()
    services.follow_up_change_state(follow_up_id=first.pk, to_state=FollowUpState.CONTACTED, actor=hq)

    later, _ = submit(shelter_b, k6_answers(21), respondent=person)

    follow_up = FollowUp.objects.get()
    assert follow_up.pk == first.pk
    assert (follow_up.response_id, follow_up.k6_score, follow_up.shelter_id, follow_up.state) == (
        later.pk,
        21,
        shelter_b.pk,
        FollowUpState.CONTACTED,
    )


def test_a_distressed_answer_after_the_case_was_closed_opens_a_new_one(shelter_a, hq):
    person = EvacueeFactory()
    submit(shelter_a, k6_answers(15), respondent=person)
    services.follow_up_change_state(follow_up_id=FollowUp.objects.get().pk, to_state=FollowUpState.CLOSED, actor=hq)

    submit(shelter_a, k6_answers(16), respondent=person)

    assert sorted(FollowUp.objects.values_list("state", "k6_score")) == [("closed", 15), ("new", 16)]


def test_the_database_itself_refuses_a_second_open_case_for_one_person(shelter_a):
    person = EvacueeFactory()
    response, _ = submit(shelter_a, k6_answers(20), respondent=person)

    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.create(evacuee=person, shelter=shelter_a, response=response, k6_score=20)


def test_anonymous_distressed_answers_put_nobody_on_the_list(shelter_a):
    for _ in range(3):
        submit(shelter_a, k6_answers(24))

    assert Response.objects.filter(k6_score=24, respondent=None).count() == 3
    assert FollowUp.objects.count() == 0


# --- Needs --------------------------------------------------------------------------------------

NEEDS_ANSWERS = {
    "needs": ["water", "blankets", "medicine", "other"],
    "needs_water_quantity": 6,
    "needs_blankets_quantity": "2",
    "needs_food_quantity": 30,  # food was not chosen: a stale value from the form, dropped
    "needs_other_text": "補聴器の電池",
}


def test_needs_answers_create_one_open_request_per_item_with_quantity_and_detail(shelter_a):
    person = EvacueeFactory()

    response, _ = submit(shelter_a, NEEDS_ANSWERS, respondent=person)

    requests = {r.item.code: r for r in Request.objects.select_related("item")}
    assert {code: (r.quantity, r.detail) for code, r in requests.items()} == {
        "water": (6, ""),
        "blankets": (2, ""),
        "medicine": (None, ""),
        "other": (None, "補聴器の電池"),
    }
    assert {(r.status, r.origin, r.shelter_id, r.evacuee_id, r.survey_response_id) for r in requests.values()} == {
        (RequestStatus.OPEN, RequestOrigin.SURVEY, shelter_a.pk, person.pk, response.pk)
    }
    assert "needs_food_quantity" not in response.answers


def test_re_running_the_needs_of_a_response_creates_nothing_new(shelter_a):
    response, _ = submit(shelter_a, NEEDS_ANSWERS, key="paper-12")
    cleaned = services.submission_clean(version=current_version(), raw_answers=NEEDS_ANSWERS)

    requests_from_survey(response=response, shelter=shelter_a, evacuee=None, needs=cleaned.needs)
    requests_from_survey(response=response, shelter=shelter_a, evacuee=None, needs=[NeedLine(item_code="water")])
    submit(shelter_a, NEEDS_ANSWERS, key="paper-12")

    assert Request.objects.count() == 4


# --- Under real concurrency (PostgreSQL) --------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
)
def test_requests_with_one_submission_key_racing_each_other_store_once(hq):
    shelter = ShelterFactory()
    person = EvacueeFactory()
    answers = {**k6_answers(19), "needs": ["water", "food"], "needs_water_quantity": 3, "needs_food_quantity": 9}

    version = current_version()
    services.version_questions(version)  # loaded once, so the requests meet at the insert

    results = run_together(
        *[
            lambda: services.response_submit(
                version=version,
                shelter=shelter,
                raw_answers=answers,
                channel="phone",
                submission_key="double-tap-1",
                respondent=person,
                entered_by=hq,
            )
            for _ in range(4)
        ]
    )

    assert all(isinstance(result, tuple) for result in results), results
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({response.pk for response, _ in results}) == 1
    assert (Response.objects.count(), FollowUp.objects.count(), Request.objects.count()) == (1, 1, 2)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
)
def test_distressed_answers_of_one_person_arriving_at_the_same_moment_leave_one_open_case(hq):
    shelter = ShelterFactory()
    person = EvacueeFactory()

    totals = [13, 15, 17, 19, 21, 23]
    version = current_version()
    services.version_questions(version)  # loaded once, so the threads meet at the follow-up

    results = run_together(
        *[
            lambda total=total: services.response_submit(
                version=version,
                shelter=shelter,
                raw_answers=k6_answers(total),
                channel="proxy",
                submission_key=f"same-moment-{total}",
                respondent=person,
            )
            for total in totals
        ]
    )

    assert all(isinstance(result, tuple) and result[1] for result in results), results
    assert Response.objects.count() == len(totals)
    follow_up = FollowUp.objects.get()
    assert follow_up.state == FollowUpState.NEW
    assert follow_up.k6_score in totals
    assert FollowUpChange.objects.count() == 1
