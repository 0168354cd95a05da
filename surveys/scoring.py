"""K6 scoring: a total of 0–24 from six items, or no score at all.

Bands as used by the Fukushima Health Management Survey: 0–4, 5–9, 10–12 and 13 or more; 13 or
more is serious psychological distress, and 10 or more is reported as well.
"""

from collections.abc import Mapping

K6_ITEM_COUNT = 6
SERIOUS_DISTRESS = 13
MODERATE_DISTRESS = 10

BANDS = [(0, 4, "0-4"), (5, 9, "5-9"), (10, 12, "10-12"), (13, 24, "13+")]


def k6_score(item_scores: Mapping[str, int | None]) -> int | None:
    """The K6 total, or None when any of the six items is unanswered (never a partial sum)."""
    if len(item_scores) != K6_ITEM_COUNT:
        return None
    scores = list(item_scores.values())
    if any(score is None for score in scores):
        return None
    if any(not 0 <= score <= 4 for score in scores):
        raise ValueError("A K6 item scores 0 to 4.")
    return sum(scores)


def k6_band(score: int | None) -> str | None:
    if score is None:
        return None
    for low, high, label in BANDS:
        if low <= score <= high:
            return label
    raise ValueError(f"A K6 total is 0 to 24, not {score}.")


def is_serious_distress(score: int | None) -> bool:
    return score is not None and score >= SERIOUS_DISTRESS
