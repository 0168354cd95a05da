"""K6 totals and bands, through the one write path (`response_submit`)."""

import uuid

import pytest

from surveys import scoring, services
from surveys.models import FollowUp, ResponseChannel
from tests.surveys.conftest import k6_answers

pytestmark = pytest.mark.django_db

CASES = [
    # (item scores, stored total, band)
    ([0, 0, 0, 0, 0, 0], 0, "0-4"),
    ([4, 4, 4, 4, 4, 4], 24, "13+"),
    ([1, 1, 1, 1, 0, 0], 4, "0-4"),
    ([1, 1, 1, 1, 1, 0], 5, "5-9"),
    ([2, 2, 2, 2, 1, 0], 9, "5-9"),
    ([2, 2, 2, 2, 2, 0], 10, "10-12"),
    ([2, 2, 2, 2, 2, 2], 12, "10-12"),
    ([3, 2, 2, 2, 2, 2], 13, "13+"),
    ([None, 4, 4, 4, 4, 4], None, None),
    ([4, None, 4, 4, 4, 4], None, None),
    ([4, 4, None, 4, 4, 4], None, None),
    ([4, 4, 4, None, 4, 4], None, None),
    ([4, 4, 4, 4, None, 4], None, None),
    ([4, 4, 4, 4, 4, None], None, None),
    ([None, None, None, None, None, None], None, None),
]


@pytest.mark.parametrize(("scores", "total", "band"), CASES, ids=[f"{c[0]}" for c in CASES])
def test_a_submitted_k6_is_scored_only_when_all_six_items_are_answered(
    version, shelter_a, resident_a, scores, total, band
):
    response, created = services.response_submit(
        version=version,
        shelter=shelter_a,
        raw_answers=k6_answers(scores),
        channel=ResponseChannel.PHONE,
        submission_key=uuid.uuid4().hex,
        respondent=resident_a,
    )

    response.refresh_from_db()
    assert created
    assert response.k6_score == total
    assert scoring.k6_band(response.k6_score) == band
    # 13 or more puts a known resident on the follow-up list; 12 or a partial answer does not.
    assert FollowUp.objects.filter(evacuee=resident_a).exists() == (total is not None and total >= 13)


def test_an_anonymous_distressed_answer_is_scored_but_opens_no_follow_up(version, shelter_a):
    response, _ = services.response_submit(
        version=version,
        shelter=shelter_a,
        raw_answers=k6_answers([4, 4, 4, 4, 4, 4]),
        channel=ResponseChannel.PHONE,
        submission_key=uuid.uuid4().hex,
    )

    assert response.k6_score == 24
    assert not FollowUp.objects.exists()
