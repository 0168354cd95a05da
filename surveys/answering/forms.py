"""The survey form, built from a version's questions: read a POST into raw answers, render rows back.

Validation is `surveys.services.submission_clean`'s alone; this only moves values between HTML
fields (named `q-<code>`) and the service, and keeps what was entered when the form comes back
with errors.
"""

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from surveys.models import Question, QuestionKind, RecallPeriod, SurveyVersion
from surveys.services import SCALE_MAX, SCALE_MIN, version_questions

PREFIX = "q-"


def raw_answers_from_post(post: QueryDict) -> dict[str, Any]:
    """Every `q-<code>` field of the POST: lists where several values came, else the one value.

    Unknown codes are passed on, so the service refuses a tampered form instead of ignoring it.
    """
    answers: dict[str, Any] = {}
    for name in post:
        if not name.startswith(PREFIX):
            continue
        values = post.getlist(name)
        answers[name[len(PREFIX) :]] = values if len(values) > 1 else values[0]
    return answers


def _english() -> bool:
    return (get_language() or "ja").startswith("en")


@dataclass
class Option:
    value: str
    label: str
    checked: bool


@dataclass
class Row:
    question: Question
    name: str
    text: str
    options: list[Option] = field(default_factory=list)
    value: str = ""
    errors: list[str] = field(default_factory=list)


def _given_values(raw) -> list[str]:
    if raw is None:
        return []
    return [str(value) for value in raw] if isinstance(raw, list) else [str(raw)]


def question_rows(
    version: SurveyVersion, raw_answers: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None
) -> list[Row]:
    raw_answers = raw_answers or {}
    errors = errors or {}
    english = _english()
    rows = []
    for question in version_questions(version):
        given = _given_values(raw_answers.get(question.code))
        row = Row(
            question=question,
            name=f"{PREFIX}{question.code}",
            text=question.text_en if english else question.text,
            errors=errors.get(question.code, []),
        )
        if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            row.options = [
                Option(choice.value, choice.label_en if english else choice.label, choice.value in given)
                for choice in question.choices.all()
            ]
        elif question.kind == QuestionKind.SCALE:
            row.options = [
                Option(str(number), str(number), str(number) in given) for number in range(SCALE_MIN, SCALE_MAX + 1)
            ]
        else:
            row.value = given[0] if given else ""
        rows.append(row)
    return rows


def form_context(
    version: SurveyVersion, raw_answers: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """What the shared form template needs: rows grouped for headings, conditions, the K6 wording."""
    rows = question_rows(version, raw_answers, errors)
    codes_by_id = {row.question.pk: row.question.code for row in rows}
    conditions = {
        row.question.code: {"question": codes_by_id[row.question.show_if_id], "values": row.question.show_if_values}
        for row in rows
        if row.question.show_if_id is not None
    }
    english = _english()
    if version.recall_period == RecallPeriod.PAST_WEEK:
        recall = _("In the past week, how often did you feel the following?")
    else:
        recall = _("In the past 30 days, how often did you feel the following?")
    # Unknown question codes (a tampered form) have no row to stand next to: show them on top.
    known = {row.question.code for row in rows}
    stray_errors = [
        f"{code}: {message}" for code, messages in (errors or {}).items() if code not in known for message in messages
    ]
    return {
        "version": version,
        "k6_rows": [row for row in rows if row.question.is_k6_item],
        "other_rows": [row for row in rows if not row.question.is_k6_item],
        "conditions": conditions,
        "recall_phrase": recall,
        "notice": (version.notice_en or version.notice) if english else version.notice,
        "survey_title": version.survey.title_en if english else version.survey.title,
        "stray_errors": stray_errors,
    }
