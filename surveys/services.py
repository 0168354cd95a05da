"""Every write to surveys: responses (phone, proxy, import), follow-ups and personal tokens.

`response_submit` is the one write path for an answer, whichever way it arrived. It validates the
whole submission first and refuses it with a message per question, so nothing is half-written;
then, in one transaction, it stores the response, opens or updates the follow-up of a distressed
resident and files the needs as supply requests.
"""

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from access.consent import current_context
from common.audit import audit_record
from common.changes import refuse_unknown_fields, row_save
from common.errors import ApplicationError
from common.limits import INT32_MAX
from consent import asking
from consent.models import subject_of
from consent.rules import Category, Method
from consent.services import consents_answer
from shelters.models import DataSource, Evacuee, Shelter, ShelterStatus, User
from shelters.services.retention import PersonAnonymised
from supply.services import NeedLine, requests_from_survey
from surveys import events, scoring

# The follow-up services live in surveys/follow_ups/services.py; the first two stay importable from here.
from surveys.follow_ups.services import FOLLOW_UP_TRANSITIONS, follow_up_change_state, follow_up_open  # noqa: F401
from surveys.models import (
    Choice,
    FollowUpChange,
    Question,
    QuestionKind,
    Response,
    ResponseChannel,
    Survey,
    SurveyToken,
    SurveyVersion,
)
from surveys.reports import build as reports

MAX_TEXT_LENGTH = 2000
SCALE_MIN, SCALE_MAX = 0, 4

# --- Validation ---------------------------------------------------------------------------------


@dataclass
class CleanedSubmission:
    answers: dict[str, Any]
    k6_score: int | None
    needs: list[NeedLine]


def _is_empty(value) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _as_int(value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise ValueError
    return int(text)


def _clean_value(question: Question, value, choice_values: set[str]):
    """The answer to one question in its stored form, or ValueError with a message for the field."""
    if question.kind == QuestionKind.SINGLE:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        value = str(value).strip()
        if value not in choice_values:
            raise ValueError(_("Choose one of the options."))
        return value
    if question.kind == QuestionKind.MULTIPLE:
        values = value if isinstance(value, list) else [value]
        values = [str(v).strip() for v in values if not _is_empty(v)]
        unknown = [v for v in values if v not in choice_values]
        if unknown:
            raise ValueError(_("Unknown option: %(value)s.") % {"value": unknown[0]})
        return sorted(set(values), key=values.index)
    if question.kind == QuestionKind.SCALE:
        try:
            number = _as_int(value)
        except ValueError:
            raise ValueError(_("Answer with a number from 0 to 4.")) from None
        if not SCALE_MIN <= number <= SCALE_MAX:
            raise ValueError(_("Answer with a number from 0 to 4."))
        return number
    if question.kind == QuestionKind.NUMBER:
        try:
            number = _as_int(value)
        except ValueError:
            raise ValueError(_("Enter a whole number.")) from None
        low = question.min_value if question.min_value is not None else 0
        if number < low:
            raise ValueError(_("Enter %(low)s or more.") % {"low": low})
        # Without a maximum of its own, a number still fits the int32 column it may end up in
        # (a supply request's quantity).
        high = question.max_value if question.max_value is not None else INT32_MAX
        if number > high:
            raise ValueError(_("Enter %(high)s or less.") % {"high": high})
        return number
    text = str(value).strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(_("Write at most %(count)s characters.") % {"count": MAX_TEXT_LENGTH})
    return text


def _shown(question: Question, answers: Mapping[str, Any], codes_by_id: Mapping[int, str]) -> bool:
    if question.show_if_id is None:
        return True
    given = answers.get(codes_by_id[question.show_if_id])
    if given is None:
        return False
    given_values = given if isinstance(given, list) else [given]
    return any(str(value) in question.show_if_values for value in given_values)


def version_questions(version: SurveyVersion) -> list[Question]:
    """The version's questions with their choices, in order (two queries)."""
    cached = getattr(version, "_questions_cache", None)
    if cached is None:
        cached = list(version.questions.prefetch_related("choices").order_by("position"))
        version._questions_cache = cached
    return cached


def submission_clean(*, version: SurveyVersion, raw_answers: Mapping[str, Any]) -> CleanedSubmission:
    """Validate a whole submission; raise one ApplicationError naming every bad question.

    Answers to questions that are not shown (their condition is not met) are dropped: the form
    hides them, and a stale value must not count. Unknown question codes are refused.
    """
    questions = version_questions(version)
    by_code = {question.code: question for question in questions}
    codes_by_id = {question.pk: question.code for question in questions}
    errors: dict[str, list[str]] = {}
    for code in raw_answers:
        if code not in by_code:
            errors[code] = [_("This survey has no such question.")]

    answers: dict[str, Any] = {}
    for question in questions:
        if not _shown(question, answers, codes_by_id):
            continue
        value = raw_answers.get(question.code)
        if _is_empty(value):
            if question.required:
                errors[question.code] = [_("This question is required.")]
            continue
        choice_values = {choice.value for choice in question.choices.all()}
        try:
            answers[question.code] = _clean_value(question, value, choice_values)
        except ValueError as error:
            errors[question.code] = [str(error)]
    if errors:
        first_code, first_messages = next(iter(errors.items()))
        raise ApplicationError(
            _("Check the answers marked: %(question)s: %(message)s")
            % {"question": first_code, "message": first_messages[0]},
            code="invalid_answers",
            field=first_code,
            fields=errors,
        )

    item_scores = {}
    needs: list[NeedLine] = []
    for question in questions:
        choices = {choice.value: choice for choice in question.choices.all()}
        if question.is_k6_item:
            answer = answers.get(question.code)
            item_scores[question.code] = choices[answer].score if answer is not None else None
        if question.kind == QuestionKind.MULTIPLE and question.category == "needs":
            for value in answers.get(question.code, []):
                choice = choices[value]
                if not choice.supply_item_code:
                    continue
                quantity = answers.get(choice.quantity_question_code) if choice.quantity_question_code else None
                detail = answers.get("needs_other_text", "") if choice.supply_item_code == "other" else ""
                needs.append(NeedLine(item_code=choice.supply_item_code, quantity=quantity, detail=detail))
    return CleanedSubmission(answers=answers, k6_score=scoring.k6_score(item_scores), needs=needs)


# --- Responses ----------------------------------------------------------------------------------


def response_submit(
    *,
    version: SurveyVersion,
    shelter: Shelter,
    raw_answers: Mapping[str, Any],
    channel: str,
    submission_key: str,
    respondent: Evacuee | None = None,
    entered_by: User | None = None,
    answered_at: datetime | None = None,
    source: str = DataSource.REAL,
) -> tuple[Response, bool]:
    """Store one filled-in survey. Returns (response, created); a repeated submission_key returns the first.

    Callers decide who may submit for whom (policy); this checks what the data itself must satisfy.
    """
    if channel not in ResponseChannel.values:
        raise ApplicationError(_("Unknown response channel."), field="channel")
    if not submission_key or len(submission_key) > 200:
        raise ApplicationError(_("A submission key is required."), field="submission_key")
    if shelter.status == ShelterStatus.STANDBY and channel != ResponseChannel.IMPORT:
        raise ApplicationError(
            _("%(shelter)s is not open.") % {"shelter": shelter.name}, code="shelter_not_open", field="shelter"
        )
    earlier = Response.objects.filter(submission_key=submission_key).first()
    if earlier is not None:
        return earlier, False
    cleaned = submission_clean(version=version, raw_answers=raw_answers)
    if respondent is not None and not survey_may_link(respondent):
        # The resident refused to have their survey answers linked to them: the answers still
        # count, anonymously (the day totals, the needs), but open no follow-up case by name.
        respondent = None
    try:
        with transaction.atomic():
            response = _store(
                version=version,
                shelter=shelter,
                cleaned=cleaned,
                channel=channel,
                submission_key=submission_key,
                respondent=respondent,
                entered_by=entered_by,
                answered_at=answered_at or timezone.now(),
                source=source,
            )
    except IntegrityError:
        # The same submission committed first from another request (a double tap, a retry).
        earlier = Response.objects.filter(submission_key=submission_key).first()
        if earlier is None:
            raise
        return earlier, False
    return response, True


def survey_may_link(respondent: Evacuee) -> bool:
    """Answers are linked to the resident (a follow-up by name, requests for them) unless they
    refused `survey` to any of those who would see it: the shelter's staff, HQ, the health staff."""
    return not asking.refused_any(
        subject_of(respondent), category=Category.SURVEY, recipients=asking.SURVEY_RECIPIENTS, context=current_context()
    )


@transaction.atomic
def response_submit_asked(
    *, respondent: Evacuee | None, consent_answers: Mapping[str, str], **submission
) -> tuple[Response, bool]:
    """The phone survey with its question first: the resident's answer about linking their survey
    answers is recorded (Method.PHONE_SURVEY), then the answers, linked to them only if they did not
    refuse; both in one transaction, so a refused submission records neither."""
    if respondent is not None and consent_answers:
        consents_answer(
            answers={subject_of(respondent): dict(consent_answers)},
            categories=asking.SURVEY_CATEGORIES,
            recipients=asking.SURVEY_RECIPIENTS,
            context=current_context(),
            method=Method.PHONE_SURVEY,
        )
    return response_submit(respondent=respondent, **submission)


def _store(
    *,
    version,
    shelter,
    cleaned: CleanedSubmission,
    channel,
    submission_key,
    respondent,
    entered_by,
    answered_at,
    source,
) -> Response:
    response = Response.objects.create(
        version=version,
        shelter=shelter,
        respondent=respondent,
        channel=channel,
        entered_by=entered_by,
        submission_key=submission_key,
        answered_at=answered_at,
        answers=cleaned.answers,
        k6_score=cleaned.k6_score,
        source=source,
    )
    # The officials' report totals, in the same transaction (one upsert; see surveys/reports/build.py).
    reports.rollup_add(response=response)
    if respondent is not None and scoring.is_serious_distress(cleaned.k6_score):
        follow_up_open(response=response, evacuee=respondent, shelter=shelter)
    requests_from_survey(response=response, shelter=shelter, evacuee=respondent, needs=cleaned.needs, source=source)
    events.responses_stored([shelter.pk])
    if entered_by is not None:
        audit_record(
            actor=entered_by,
            action="survey_response.submit",
            object_type="surveys.Response",
            object_id=response.pk,
            details={"channel": channel, "shelter": shelter.pk, "for_person": respondent is not None},
        )
    return response


# --- Personal tokens ----------------------------------------------------------------------------

TOKEN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a slip
TOKEN_LENGTH = 10


@transaction.atomic
def survey_token_issue(*, evacuee: Evacuee, actor: User | None) -> SurveyToken:
    """The resident's active token; a new one replaces (revokes) the old when asked again."""
    SurveyToken.objects.filter(evacuee=evacuee, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token = SurveyToken.objects.create(
        evacuee=evacuee,
        token="".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH)),
        issued_by=actor,
    )
    audit_record(
        actor=actor, action="survey_token.issue", object_type="surveys.SurveyToken", object_id=token.pk, details={}
    )
    return token


# --- Survey versions ----------------------------------------------------------------------------


def version_has_responses(version: SurveyVersion) -> bool:
    """A version someone has answered is frozen: its questions give the old answers their meaning."""
    return Response.objects.filter(version=version).exists()


@transaction.atomic
def survey_version_copy(*, version: SurveyVersion, actor: User | None) -> SurveyVersion:
    """A new, not yet current version with the same questions, choices and conditions, to edit freely."""
    survey = version.survey
    # Lock the survey so two copies made at the same moment do not take the same number.
    type(survey).objects.select_for_update().filter(pk=survey.pk).first()
    number = (survey.versions.aggregate(highest=Max("number"))["highest"] or 0) + 1
    copy = SurveyVersion.objects.create(
        survey=survey,
        number=number,
        is_current=False,
        recall_period=version.recall_period,
        notice=version.notice,
        notice_en=version.notice_en,
    )
    originals = list(version.questions.prefetch_related("choices").order_by("position"))
    copies: dict[int, Question] = {}
    for question in originals:
        copies[question.pk] = Question.objects.create(
            version=copy,
            code=question.code,
            position=question.position,
            kind=question.kind,
            category=question.category,
            text=question.text,
            text_en=question.text_en,
            required=question.required,
            show_if=None,
            show_if_values=list(question.show_if_values),
            min_value=question.min_value,
            max_value=question.max_value,
            is_k6_item=question.is_k6_item,
        )
    Choice.objects.bulk_create(
        Choice(
            question=copies[question.pk],
            value=choice.value,
            position=choice.position,
            label=choice.label,
            label_en=choice.label_en,
            score=choice.score,
            supply_item_code=choice.supply_item_code,
            quantity_question_code=choice.quantity_question_code,
        )
        for question in originals
        for choice in question.choices.all()
    )
    # Conditions point at the copy's own questions, never back into the old version.
    for question in originals:
        if question.show_if_id is not None:
            copied = copies[question.pk]
            copied.show_if = copies[question.show_if_id]
            copied.save(update_fields=["show_if"])
    audit_record(
        actor=actor,
        action="survey_version.copy",
        object_type="surveys.SurveyVersion",
        object_id=copy.pk,
        details={"from_version": version.pk, "number": number},
    )
    return copy


@transaction.atomic
def survey_version_make_current(*, version: SurveyVersion, actor: User | None) -> SurveyVersion:
    """Make this the version respondents answer from now on; the previous current one stops being it."""
    if not version.questions.exists():
        raise ApplicationError(_("A version without questions cannot be made current."), field="version")
    # Two swaps at once queue on the survey's row; clearing before setting keeps the partial unique
    # index (one current version per survey) satisfied at every statement.
    type(version.survey).objects.select_for_update().filter(pk=version.survey_id).first()
    SurveyVersion.objects.filter(survey_id=version.survey_id, is_current=True).exclude(pk=version.pk).update(
        is_current=False
    )
    SurveyVersion.objects.filter(pk=version.pk).update(is_current=True)
    version.is_current = True
    audit_record(
        actor=actor,
        action="survey_version.make_current",
        object_type="surveys.SurveyVersion",
        object_id=version.pk,
        details={"survey": version.survey_id, "number": version.number},
    )
    return version


# --- Authoring in the admin ---------------------------------------------------------------------

SURVEY_FIELDS = frozenset({"code", "title", "title_en"})
VERSION_FIELDS = frozenset({"recall_period", "notice", "notice_en"})


def frozen_refusal() -> ApplicationError:
    return ApplicationError(
        _(
            "This version already has responses, so it cannot be changed: "
            "use “Copy as a new version”, edit the copy and make it current."
        ),
        code="version_frozen",
        field="version",
    )


@transaction.atomic
def survey_save(*, survey_id: int | None, fields: dict, actor: User | None) -> Survey:
    """Create (no id) or rename a survey: its code and titles."""
    survey, _changed = row_save(
        Survey,
        pk=survey_id,
        fields=fields,
        allowed=SURVEY_FIELDS,
        actor=actor,
        action="survey",
        object_type="surveys.Survey",
    )
    return survey


@transaction.atomic
def survey_version_create(*, survey: Survey, fields: dict, actor: User | None) -> SurveyVersion:
    """A new, empty, not yet current version with the next number."""
    refuse_unknown_fields(fields, VERSION_FIELDS)
    # The lock survey_version_copy takes: two new versions never share a number.
    Survey.objects.select_for_update().filter(pk=survey.pk).first()
    number = (survey.versions.aggregate(highest=Max("number"))["highest"] or 0) + 1
    version = SurveyVersion.objects.create(survey=survey, number=number, is_current=False, **fields)
    audit_record(
        actor=actor,
        action="survey_version.create",
        object_type="surveys.SurveyVersion",
        object_id=version.pk,
        details={"survey": survey.pk, "number": number},
    )
    return version


@transaction.atomic
def survey_draft_edit(*, version_id: int, actor: User | None, what: str, write: Callable[[], Any]) -> Any:
    """Change a version nobody has answered yet: its own fields, its questions or their choices.

    The admin's validated forms are the `write` (questions and choices are many rows of many
    fields, which Django's inline forms already check); this service owns the rest. Under the
    version's row lock it refuses a version with responses (its questions give those answers their
    meaning), runs the write and audits `what` changed.
    """
    version = SurveyVersion.objects.select_for_update().filter(pk=version_id).first()
    if version is None:
        raise ApplicationError(_("Survey version not found."), code="not_found", status_code=404)
    if version_has_responses(version):
        raise frozen_refusal()
    result = write()
    audit_record(
        actor=actor,
        action="survey_version.edit",
        object_type="surveys.SurveyVersion",
        object_id=version.pk,
        details={"changed": what},
    )
    return result


@transaction.atomic
def survey_version_delete(*, version_id: int, actor: User | None) -> None:
    """Delete a draft: never a version with responses, nor the current one."""
    version = SurveyVersion.objects.select_for_update().filter(pk=version_id).first()
    if version is None:
        return
    if version_has_responses(version):
        raise frozen_refusal()
    if version.is_current:
        raise ApplicationError(
            _("The current version cannot be deleted: make another version current first."), field="version"
        )
    version.delete()
    audit_record(actor=actor, action="survey_version.delete", object_type="surveys.SurveyVersion", object_id=version_id)


# --- Retention ----------------------------------------------------------------------------------


def survey_data_anonymise_person(anonymised: PersonAnonymised) -> dict[str, int]:
    """What in surveys can name an anonymised person goes (a retention handler,
    shelters/services/retention.py): the free-text answers of their responses, the notes on their
    follow-up cases, and their survey token is revoked. Choices, numbers and K6 scores stay, so the
    reports' day totals are the same whether rebuilt before or after (free text is never counted)."""
    person = anonymised.evacuee_id
    responses = list(Response.objects.filter(respondent_id=person).only("pk", "version_id", "answers").order_by("pk"))
    text_codes: dict[int, set[str]] = {}
    for version_id, code in Question.objects.filter(
        version_id__in={r.version_id for r in responses}, kind=QuestionKind.TEXT
    ).values_list("version_id", "code"):
        text_codes.setdefault(version_id, set()).add(code)
    answers_blanked = 0
    for response in responses:
        free_text = text_codes.get(response.version_id, set()) & response.answers.keys()
        if free_text:
            kept = {code: value for code, value in response.answers.items() if code not in free_text}
            Response.objects.filter(pk=response.pk).update(answers=kept)
            answers_blanked += 1
    notes = FollowUpChange.objects.filter(follow_up__evacuee_id=person).exclude(note="").update(note="")
    tokens = SurveyToken.objects.filter(evacuee_id=person, revoked_at__isnull=True).update(revoked_at=anonymised.at)
    return {"survey_free_text_answers": answers_blanked, "follow_up_notes": notes, "survey_tokens_revoked": tokens}
