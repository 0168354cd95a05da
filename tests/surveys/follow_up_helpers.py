"""Answers to the built-in survey, and submitting them, for the response and follow-up tests."""

import uuid

from surveys import services
from surveys.builtin import SURVEY_CODE
from surveys.models import ResponseChannel, SurveyVersion

K6_VALUES = {4: "always", 3: "mostly", 2: "sometimes", 1: "a_little", 0: "never"}
K6_CODES = [f"k6_{n}" for n in range(1, 7)]


def current_version() -> SurveyVersion:
    return SurveyVersion.objects.get(survey__code=SURVEY_CODE, is_current=True)


def k6_answers(total: int) -> dict[str, str]:
    """Six K6 answers adding up to `total` (0-24)."""
    scores = [total // 6 + (1 if n < total % 6 else 0) for n in range(6)]
    return {code: K6_VALUES[score] for code, score in zip(K6_CODES, scores, strict=True)}


def submit(shelter, answers, *, respondent=None, key=None, actor=None, channel=ResponseChannel.PROXY, **options):
    """One submission through the one write path; returns (response, created)."""
    return services.response_submit(
        version=current_version(),
        shelter=shelter,
        raw_answers=answers,
        channel=channel,
        submission_key=key or uuid.uuid4().hex,
        respondent=respondent,
        entered_by=actor,
        **options,
    )
