"""Survey fixtures: the built-in survey's current version, residents, answers."""

import pytest
from django.core.cache import cache

from shelters import services as shelter_services
from surveys import selectors
from surveys.builtin import K6_ANSWERS, K6_ITEMS
from tests.factories import EvacueeFactory

# K6 answer value by score: 4 いつも … 0 まったくない.
K6_VALUE_BY_SCORE = {score: value for value, _label, _label_en, score in K6_ANSWERS}
K6_CODES = [code for code, _text, _text_en in K6_ITEMS]


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counters start at zero in every test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def version(db):
    return selectors.current_version()


@pytest.fixture
def people(hq, manager_a, manager_b, official):
    return {"hq": hq, "manager_a": manager_a, "manager_b": manager_b, "official": official, "anonymous": None}


@pytest.fixture
def resident_a(shelter_a, hq):
    """A person staying at shelter A."""
    person = EvacueeFactory()
    shelter_services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
    return person


@pytest.fixture
def resident_b(shelter_b, hq):
    person = EvacueeFactory()
    shelter_services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[person.pk], actor=hq)
    return person


def k6_answers(scores: list[int | None]) -> dict[str, str]:
    """Answers to the six K6 items with these scores (None leaves the item unanswered)."""
    return {code: K6_VALUE_BY_SCORE[score] for code, score in zip(K6_CODES, scores, strict=True) if score is not None}


def k6_post(scores: list[int | None]) -> dict[str, str]:
    return {f"q-{code}": value for code, value in k6_answers(scores).items()}


def status_of(response):
    if response.status_code == 302 and "/login/" in response["Location"]:
        return "login"
    return response.status_code
