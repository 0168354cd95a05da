"""HQ edits surveys in the admin: answered versions are frozen, copies are editable, one is current."""

import uuid

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from common.errors import ApplicationError
from common.models import AuditEntry
from shelters.models import Role
from surveys import services
from surveys.models import Choice, Question, ResponseChannel, SurveyVersion
from tests.factories import UserFactory
from tests.surveys.conftest import k6_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def answered(version, shelter_a):
    services.response_submit(
        version=version,
        shelter=shelter_a,
        raw_answers=k6_answers([1, 1, 1, 1, 1, 1]),
        channel=ResponseChannel.PHONE,
        submission_key=uuid.uuid4().hex,
    )
    return version


def test_a_copy_has_the_next_number_the_same_questions_choices_and_conditions_and_is_not_current(version, admin_user):
    copy = services.survey_version_copy(version=version, actor=admin_user)

    assert copy.number == version.number + 1
    assert not copy.is_current
    version.refresh_from_db()
    assert version.is_current
    original = {q.code: q for q in version.questions.prefetch_related("choices")}
    copied = {q.code: q for q in copy.questions.select_related("show_if").prefetch_related("choices")}
    assert copied.keys() == original.keys()
    for code, question in copied.items():
        source = original[code]
        assert (question.position, question.kind, question.text, question.is_k6_item, question.required) == (
            source.position,
            source.kind,
            source.text,
            source.is_k6_item,
            source.required,
        )
        assert [(c.value, c.score, c.supply_item_code, c.quantity_question_code) for c in question.choices.all()] == [
            (c.value, c.score, c.supply_item_code, c.quantity_question_code) for c in source.choices.all()
        ]
        if source.show_if_id:
            # The condition points at the copy's own question, not back into the old version.
            assert question.show_if.version_id == copy.pk
            assert question.show_if.code == source.show_if.code
            assert question.show_if_values == source.show_if_values
    assert (
        Choice.objects.filter(question__version=copy).count()
        == Choice.objects.filter(question__version=version).count()
    )
    assert AuditEntry.objects.filter(action="survey_version.copy", object_id=str(copy.pk), actor=admin_user).exists()


def test_a_second_copy_takes_the_number_after_the_highest(version, admin_user):
    services.survey_version_copy(version=version, actor=admin_user)
    third = services.survey_version_copy(version=version, actor=admin_user)

    assert third.number == version.number + 2


def test_making_a_copy_current_swaps_the_current_version_and_old_answers_keep_theirs(answered, admin_user, shelter_a):
    copy = services.survey_version_copy(version=answered, actor=admin_user)

    services.survey_version_make_current(version=copy, actor=admin_user)

    assert list(SurveyVersion.objects.filter(survey=answered.survey, is_current=True)) == [copy]
    assert answered.responses.count() == 1
    response, _ = services.response_submit(
        version=copy,
        shelter=shelter_a,
        raw_answers=k6_answers([0, 0, 0, 0, 0, 0]),
        channel=ResponseChannel.PHONE,
        submission_key=uuid.uuid4().hex,
    )
    assert response.version == copy
    assert answered.responses.count() == 1


def test_the_database_refuses_two_current_versions_of_one_survey(version, admin_user):
    copy = services.survey_version_copy(version=version, actor=admin_user)

    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyVersion.objects.filter(pk=copy.pk).update(is_current=True)


def test_a_version_without_questions_cannot_be_made_current(version, admin_user):
    empty = SurveyVersion.objects.create(survey=version.survey, number=99)

    with pytest.raises(ApplicationError) as refused:
        services.survey_version_make_current(version=empty, actor=admin_user)
    assert refused.value.field == "version"
    version.refresh_from_db()
    assert version.is_current


def test_the_admin_copy_action_makes_a_new_version(as_user, admin_user, version):
    response = as_user(admin_user).post(
        reverse("admin:surveys_surveyversion_changelist"),
        {"action": "copy_as_new_version", "_selected_action": [version.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert SurveyVersion.objects.filter(survey=version.survey, number=version.number + 1, is_current=False).exists()


def test_the_admin_make_current_action_swaps_the_current_version(as_user, admin_user, version):
    copy = services.survey_version_copy(version=version, actor=admin_user)

    as_user(admin_user).post(
        reverse("admin:surveys_surveyversion_changelist"),
        {"action": "make_current", "_selected_action": [copy.pk]},
    )

    copy.refresh_from_db()
    version.refresh_from_db()
    assert copy.is_current and not version.is_current


def test_the_admin_refuses_to_save_a_question_of_an_answered_version_and_says_why(as_user, admin_user, answered):
    question = answered.questions.get(code="k6_1")
    client = as_user(admin_user)
    url = reverse("admin:surveys_question_change", args=[question.pk])

    page = client.get(url)
    response = client.post(url, {"text": "書き換え", "text_en": "Rewritten"}, follow=True)

    assert b"copy" in page.content.lower() or "コピー".encode() in page.content
    assert 'name="text"' not in page.content.decode()  # shown read-only
    question.refresh_from_db()
    assert question.text != "書き換え"
    messages = [str(m) for m in response.context["messages"]]
    assert any("responses" in m or "回答" in m for m in messages)


def test_the_admin_refuses_to_save_an_answered_version(as_user, admin_user, answered):
    url = reverse("admin:surveys_surveyversion_change", args=[answered.pk])

    response = as_user(admin_user).post(url, {"recall_period": "past_week", "notice": "", "notice_en": ""}, follow=True)

    answered.refresh_from_db()
    assert answered.recall_period == "past_30_days"
    assert any("responses" in str(m) or "回答" in str(m) for m in response.context["messages"])


def test_the_admin_edits_a_question_of_an_unanswered_copy(as_user, admin_user, answered):
    copy = services.survey_version_copy(version=answered, actor=admin_user)
    question = copy.questions.get(code="comment")
    url = reverse("admin:surveys_question_change", args=[question.pk])
    data = {
        "version": copy.pk,
        "code": "comment",
        "position": question.position,
        "kind": "text",
        "category": "other",
        "text": "ご意見（自由記述）",
        "text_en": "Comments",
        "show_if_values": "[]",
        "choices-TOTAL_FORMS": "0",
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
    }

    response = as_user(admin_user).post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    question.refresh_from_db()
    assert question.text == "ご意見（自由記述）"
    assert answered.questions.get(code="comment").text != "ご意見（自由記述）"
    # Written by survey_draft_edit, which audits what changed.
    entry = AuditEntry.objects.get(action="survey_version.edit")
    assert (entry.actor, entry.object_id, entry.details) == (admin_user, str(copy.pk), {"changed": "question comment"})


def test_the_draft_edit_service_refuses_a_version_with_responses_even_past_the_admin(admin_user, answered):
    question = answered.questions.get(code="comment")
    question.text = "書き換え"

    with pytest.raises(ApplicationError) as refused:
        services.survey_draft_edit(version_id=answered.pk, actor=admin_user, what="question", write=question.save)

    assert refused.value.code == "version_frozen"
    assert answered.questions.get(code="comment").text != "書き換え"


def test_a_version_added_in_the_admin_takes_the_next_number_and_is_not_current(as_user, admin_user, version):
    response = as_user(admin_user).post(
        reverse("admin:surveys_surveyversion_add"),
        {
            "survey": version.survey_id,
            "recall_period": version.recall_period,
            "notice": "",
            "notice_en": "",
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    added = SurveyVersion.objects.get(survey=version.survey, number=version.number + 1)
    assert not added.is_current
    assert AuditEntry.objects.get(action="survey_version.create").object_id == str(added.pk)


def test_a_new_question_cannot_be_added_to_an_answered_version(as_user, admin_user, answered):
    response = as_user(admin_user).post(
        reverse("admin:surveys_question_add"),
        {
            "version": answered.pk,
            "code": "extra",
            "position": 999,
            "kind": "text",
            "category": "other",
            "text": "追加",
            "text_en": "Extra",
            "show_if_values": "[]",
            "choices-TOTAL_FORMS": "0",
            "choices-INITIAL_FORMS": "0",
            "choices-MIN_NUM_FORMS": "0",
            "choices-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 200
    assert not Question.objects.filter(version=answered, code="extra").exists()


@pytest.mark.parametrize("persona", ["hq", "manager_a", "manager_b", "official", "anonymous"])
def test_survey_editing_is_for_admin_staff_only(as_user, people, persona, version):
    response = as_user(people[persona]).get(reverse("admin:surveys_surveyversion_change", args=[version.pk]))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_admin_opens_the_survey_version_page(as_user, admin_user, version):
    response = as_user(admin_user).get(reverse("admin:surveys_surveyversion_change", args=[version.pk]))

    assert response.status_code == 200


def test_an_answered_version_opens_read_only_with_a_warning(as_user, admin_user, answered):
    response = as_user(admin_user).get(reverse("admin:surveys_surveyversion_change", args=[answered.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="recall_period"' not in page
    assert 'name="questions-0-text"' not in page
    assert any("responses" in str(m) or "回答" in str(m) for m in response.context["messages"])
