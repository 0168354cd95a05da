"""Sample survey answers for the demo (source = sample), so the reports and widgets have data.

Answers are made up, like the sample people; they go through `response_submit`, the one write
path, as answers on phones (anonymous) and entered by staff (for a sample resident). Removed with
the rest of the sample data by `load_demo --reset` (surveys/sources.py).
"""

import random
from datetime import timedelta

from django.utils import timezone

from shelters.models import DataSource, Stay
from surveys import services
from surveys.builtin import K6_ANSWERS, K6_ITEMS, LIVING_ISSUES, NEEDS
from surveys.models import Response, ResponseChannel, SurveyVersion

SEED = 2026_4
ANSWERS_PER_RESIDENT = 0.35  # about a third of the people inside a shelter answered
SUBMISSION_KEY_PREFIX = "sample:"

_K6_VALUE_BY_SCORE = {score: value for value, _label, _label_en, score in K6_ANSWERS}


def _k6_answers(rng: random.Random) -> dict[str, str]:
    # A per-person level: most people mildly distressed, some seriously (the 13+ band).
    level = rng.choices([0.5, 1.5, 2.5, 3.3], weights=[45, 35, 13, 7])[0]
    answers = {}
    for code, _text, _text_en in K6_ITEMS:
        score = min(4, max(0, round(rng.gauss(level, 0.8))))
        answers[code] = _K6_VALUE_BY_SCORE[score]
    if rng.random() < 0.05:  # some leave an item out: no K6 score for them
        answers.pop(rng.choice(list(answers)))
    return answers


def _needs_answers(rng: random.Random) -> dict:
    codes = [code for code, _label, _label_en, _quantity in NEEDS if code != "other"]
    weights = {"water": 5, "food": 4, "blankets": 4, "cardboard_beds": 3, "hygiene": 3, "partitions": 2}
    chosen = {rng.choices(codes, [weights.get(code, 1) for code in codes])[0] for _ in range(rng.randint(0, 3))}
    answers: dict = {"needs": sorted(chosen)} if chosen else {}
    for code, _label, _label_en, with_quantity in NEEDS:
        if code in chosen and with_quantity:
            answers[f"needs_{code}_quantity"] = rng.randint(1, 6)
    return answers


def _living_answers(rng: random.Random, shelter_mood: dict[str, float]) -> dict[str, int]:
    return {
        f"issue_{code}": min(4, max(0, round(rng.gauss(shelter_mood[code], 1.0))))
        for code, _label, _label_en in LIVING_ISSUES
        if rng.random() < 0.9
    }


def sample_responses_load() -> int:
    """Answers from about a third of the sample residents, over the last 20 hours; returns how many."""
    if Response.objects.filter(source=DataSource.SAMPLE).exists():
        return 0
    version = SurveyVersion.objects.filter(survey__code="evacuation-life", is_current=True).first()
    if version is None:
        return 0
    rng = random.Random(SEED)
    now = timezone.now()
    stays = list(
        Stay.objects.filter(evacuee__source=DataSource.SAMPLE, checked_out_at__isnull=True, mode="inside")
        .select_related("shelter", "evacuee")
        .order_by("pk")
    )
    moods: dict[int, dict[str, float]] = {}
    created = 0
    for stay in stays:
        if rng.random() >= ANSWERS_PER_RESIDENT:
            continue
        mood = moods.setdefault(
            stay.shelter_id, {code: rng.uniform(0.5, 3.0) for code, _label, _label_en in LIVING_ISSUES}
        )
        identified = rng.random() < 0.4  # staff entered it for the resident; else anonymous on a phone
        answered_at = max(stay.checked_in_at, now - timedelta(hours=20)) + timedelta(minutes=rng.randint(5, 600))
        services.response_submit(
            version=version,
            shelter=stay.shelter,
            raw_answers=_k6_answers(rng) | _needs_answers(rng) | _living_answers(rng, mood),
            channel=ResponseChannel.PROXY if identified else ResponseChannel.PHONE,
            submission_key=f"{SUBMISSION_KEY_PREFIX}{stay.pk}",
            respondent=stay.evacuee if identified else None,
            answered_at=min(answered_at, now),
            source=DataSource.SAMPLE,
        )
        created += 1
    return created
