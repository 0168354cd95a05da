"""Small-cell suppression: the one rule for every figure about survey respondents shown to people who
may not see names (city officials on the dashboards, officials' reports).

A figure built from fewer than `threshold` (5) respondents is shown as "<5" instead of its value,
because with so few people a figure can point at a person (three respondents at one shelter, two of
them distressed). Zero is shown as 0: it counts nobody, so it identifies nobody.

- a count of respondents (or of things one respondent each asked for) goes through `suppress`;
- a share or a mean is suppressed when its base (the respondents it is computed over) is below the
  threshold, and a share also when the respondents it counts are 1 to 4 (2 of 40 distressed is a
  figure about two people).

Pure functions, no Django: the dashboards and the reports call the same rule.
"""

SMALL_CELL_THRESHOLD = 5


def suppressed_label(threshold: int = SMALL_CELL_THRESHOLD) -> str:
    return f"<{threshold}"


def is_small(count: int, threshold: int = SMALL_CELL_THRESHOLD) -> bool:
    """True for 1 to threshold - 1: a cell that must not be shown."""
    return 0 < count < threshold


def suppress(count: int, threshold: int = SMALL_CELL_THRESHOLD) -> int | str:
    """The count itself, or "<5" when it is 1 to 4."""
    return suppressed_label(threshold) if is_small(count, threshold) else count


def suppress_share(part: int, whole: int, threshold: int = SMALL_CELL_THRESHOLD) -> float | str | None:
    """part / whole as a fraction (0.125), "<5" when either is a small cell, None when whole is 0."""
    if whole == 0:
        return None
    if is_small(whole, threshold) or is_small(part, threshold):
        return suppressed_label(threshold)
    return part / whole


def suppress_mean(total: float, count: int, threshold: int = SMALL_CELL_THRESHOLD) -> float | str | None:
    """total / count, "<5" when the count of respondents is 1 to 4, None when it is 0."""
    if count == 0:
        return None
    if is_small(count, threshold):
        return suppressed_label(threshold)
    return total / count
