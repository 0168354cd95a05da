"""Small-cell suppression for the figures officials see: one pure module, no Django.

The rule (Japan's usual practice for published statistics, e.g. the 5-person rule):

- Primary suppression: a figure built from 1 to 4 respondents is shown as "<5". A count of 0 is
  shown as 0: it says nothing about any person, and a zero that was hidden could still be told
  apart from the small cells by the totals.
- Complementary (secondary) suppression: a table's cells sum to totals along "lines" (a row and
  its row total, a column and its column total). A line whose only hidden member is one cell would
  let anyone work that cell out as total minus the others, so every line must have either no
  hidden member or at least two. When a line has exactly one, the smallest non-zero shown cell of
  that line is hidden too (the total only when no cell is left), and hiding it may in turn break
  another line, so this repeats until every line holds. A complementary cell is shown as "x": it
  is not small, only hidden to protect one that is.

Means and shares follow their count: a cell whose respondent count is hidden shows neither its
mean nor its shares (they would give the count back through the totals' sums).

Live figures on the dashboards (surveys.events) use the same primary rule: `suppress` for counts,
`suppress_share` and `suppress_mean` for shares and means, which are hidden when their base is
small, and a share also when the respondents it counts are 1 to 4 (2 of 40 distressed is a figure
about two people).

Known limit, by design of the rule: hiding protects against working a cell out exactly, not
against narrowing it (two hidden cells in a line with a known total of 2 are both 1).

Reports over filters (surveys/reports) use `Block`: a fixed release that every figure is worked
out from, so comparing reports over different filters (differencing) gives nothing back either.
"""

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence

THRESHOLD = 5
SMALL = "<5"
HIDDEN = "x"


def suppress(count: int, threshold: int = THRESHOLD) -> int | str:
    """The count as shown to officials: itself, or "<5" when 0 < count < threshold (0 stays 0)."""
    if 0 < count < threshold:
        return f"<{threshold}"
    return count


def is_small(count: int, threshold: int = THRESHOLD) -> bool:
    return 0 < count < threshold


def suppress_share(part: int, whole: int, threshold: int = THRESHOLD) -> float | str | None:
    """part / whole as a fraction (0.125), "<5" when either is a small cell, None when whole is 0."""
    if whole == 0:
        return None
    if is_small(whole, threshold) or is_small(part, threshold):
        return f"<{threshold}"
    return part / whole


def suppress_mean(total: float, count: int, threshold: int = THRESHOLD) -> float | str | None:
    """total / count, "<5" when the count of respondents is 1 to 4, None when it is 0."""
    if count == 0:
        return None
    if is_small(count, threshold):
        return f"<{threshold}"
    return total / count


class Line:
    """Cells that add up to a total: `cells` keys, and the `total` key (None when the total is not shown)."""

    __slots__ = ("cells", "total")

    def __init__(self, cells: Iterable[Hashable], total: Hashable | None):
        self.cells = list(cells)
        self.total = total

    def members(self) -> list[Hashable]:
        return self.cells if self.total is None else [*self.cells, self.total]


def protect(
    values: Mapping[Hashable, int],
    lines: Sequence[Line],
    *,
    primary: Iterable[Hashable] | None = None,
    threshold: int = THRESHOLD,
    lines_of: Callable[[Hashable], Iterable[int]] | None = None,
) -> tuple[set[Hashable], set[Hashable]]:
    """Which cells to hide: (primary, complementary).

    `values` holds every cell and total by key (respondent counts). `primary` defaults to the keys
    whose value is small; a caller may add cells that are small by another count of the same cell.
    `lines_of(key)` gives the indexes of the lines a key belongs to; a caller whose table has a
    shape can compute it instead of having it built here (a dict of every cell).
    """
    primary_set = (
        set(primary) if primary is not None else {key for key, value in values.items() if 0 < value < threshold}
    )
    hidden = set(primary_set)
    # Hidden members per line, kept up to date as cells are hidden, so a long line (a day across
    # 3,000 shelters) is scanned only when it needs a partner, not each time it is looked at.
    hidden_count = [
        len(hidden.intersection(line.cells)) + (line.total is not None and line.total in hidden) for line in lines
    ]
    if lines_of is None:
        index_of: dict[Hashable, list[int]] = defaultdict(list)
        for index, line in enumerate(lines):
            for key in line.members():
                index_of[key].append(index)
        lines_of = index_of.__getitem__

    pending = [index for index, count in enumerate(hidden_count) if count == 1]
    while pending:
        index = pending.pop()
        if hidden_count[index] != 1:
            continue
        line = lines[index]
        candidates = [key for key in line.cells if key not in hidden and values.get(key, 0) > 0]
        if candidates:
            chosen = min(candidates, key=values.__getitem__)
        elif line.total is not None and line.total not in hidden:
            chosen = line.total
        else:
            # Only zero cells remain shown: the hidden one equals the total, which is hidden too
            # or absent, so nothing can be worked out.
            continue
        hidden.add(chosen)
        for other in lines_of(chosen):
            hidden_count[other] += 1
            if hidden_count[other] == 1:
                pending.append(other)
    return primary_set, hidden - primary_set


def line_is_safe(hidden: set[Hashable], line: Line) -> bool:
    """No hidden member, or at least two (counting the total): the check the tests make."""
    return sum(1 for key in line.members() if key in hidden) != 1


class Block:
    """One fixed release: entries tied by one equation (the entries in `negative` count minus),
    with the small ones hidden and, when one alone would be, a partner.

    A figure that is the sum of some entries may be shown only when the shown entries give it:
    when it holds no hidden entry, or every hidden entry and they are all on one side of the
    equation (then it is the other side's sum). Any other sum is left with at least one degree of
    freedom: the equation ties the hidden entries together but fixes none of them, nor any part
    of them, so no number of such figures, over any filters, works one out.
    """

    __slots__ = ("hidden", "negative", "primary")

    def __init__(
        self,
        values: Mapping[Hashable, int],
        *,
        negative: Iterable[Hashable] = (),
        primary: Iterable[Hashable] | None = None,
        threshold: int = THRESHOLD,
    ):
        self.primary, complementary = protect(
            values, [Line(values, None)], primary=primary, threshold=threshold, lines_of=_the_one_line
        )
        self.hidden = self.primary | complementary
        self.negative = self.hidden.intersection(negative)

    def gives(self, members: Iterable[Hashable]) -> bool:
        """Whether the sum of these entries follows from the shown ones (and so may be shown)."""
        chosen = self.hidden.intersection(members)
        if not chosen:
            return True
        return chosen == self.hidden and len(self.negative) in (0, len(self.hidden))


def _the_one_line(_key: Hashable) -> tuple[int]:
    return (0,)
