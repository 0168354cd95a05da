"""What officials see of the survey reports: one fixed release per week, whatever they choose.

Hiding small cells inside each report is not enough when the filters are free: two reports over
shelter sets that differ by one shelter, or over date ranges that differ by one day, give that
shelter's or that day's figure by subtraction. So an official's report is assembled from a
release that does not depend on the filters:

- Time is cut into whole weeks, Monday to Sunday (Asia/Tokyo), and only weeks that have ended
  are released: the asked dates are widened to whole weeks and end at the last Sunday. A week
  still running would change from one day to the next, and two looks at it would difference it.
- Per week, the entries are each shelter's totals for the week and the city's totals per day
  (the stress figures), and each shelter's and the city's count per living issue and per needs
  item. One equation ties each week's entries (the shelters add up to the days, or to the city),
  and `surveys.suppression.Block` hides the small entries and, where one would be alone, a
  partner.
- Every figure of a report is a sum of entries, and it is shown only when the shown entries give
  it (`Block.gives`); otherwise it is shown as "x". A shelter's row over several weeks is shown
  when each of its weeks is; a selection's total and needs when, in each week, the selection
  holds none of the hidden shelters or all of them; figures per day only city-wide, since the
  release has no shelter's day.

So every figure an official can see is worked out from the one release, which no choice of
filters changes, and in each week's equation at least two entries stay unknown: no sequence of
reports works out a hidden entry, nor any part of one. tests/surveys/test_differencing.py
performs the attack with exact arithmetic over many random selections.

Known limits: as with any hiding, a hidden entry can be narrowed (bounded), not worked out. An
ended week changes if answers dated in it arrive later (a late import); a report read before and
one read after such an import differ by what it added. HQ, administrators and a shelter's managers
see exact figures (access.policy.reports_suppressed_for) and any day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence

from surveys.suppression import Block, is_small

WEEK = 7
CITY = -1  # the city's entry in a week's block of counts; shelters are keyed by their (positive) ids

# How a figure is shown: None (its value), "primary" ("<5"), "complementary" or "withheld" ("x").
Kind = str | None


def officials_dates(start: dt.date, end: dt.date, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """The asked dates widened to whole weeks, ending with the last week that has ended.

    The start may come out after the end (only the running week was asked): the report is empty.
    """
    last_sunday = today - dt.timedelta(days=today.weekday() + 1)
    start = start - dt.timedelta(days=start.weekday())
    end = end + dt.timedelta(days=WEEK - 1 - end.weekday())
    return start, min(end, last_sunday)


def _day_key(offset: int) -> int:
    return -(offset + 1)


def _entry_kind(block: Block, key: int) -> Kind:
    if key not in block.hidden:
        return None
    return "primary" if key in block.primary else "complementary"


def _summed_kind(kinds: list[Kind]) -> Kind:
    """A figure summed over weeks: shown when each week's part is; a single week's part as it is."""
    if len(kinds) == 1:
        return kinds[0]
    return None if all(kind is None for kind in kinds) else "withheld"


class WeeklyStress:
    """The stress figures' release: per week, each shelter's totals and the city's per day.

    `totals` maps a week (the day offset of its Monday from the report's first day) to each
    shelter's five counters that week; `day_totals` maps a day offset to the city's five counters.
    Both are summed in SQL (`surveys.reports.build`): no Python loop over the shelters' days.
    """

    def __init__(self, totals: Mapping[int, dict[int, list[int]]], day_totals: Mapping[int, list[int]], *, days: int):
        self.weeks = list(range(0, days, WEEK))
        self.totals: dict[int, dict[int, list[int]]] = {week: totals.get(week, {}) for week in self.weeks}
        self.day_totals = day_totals
        self.blocks: dict[int, Block] = {}
        for week in self.weeks:
            entries = dict(self.totals[week])
            day_keys = [_day_key(offset) for offset in range(week, week + WEEK) if offset in self.day_totals]
            for key in day_keys:
                entries[key] = self.day_totals[-key - 1]
            self.blocks[week] = Block(
                {key: counts[0] for key, counts in entries.items()},
                negative=day_keys,
                primary=[key for key, counts in entries.items() if is_small(counts[0]) or is_small(counts[1])],
            )
        self.hidden_shelters = set().union(*(block.hidden for block in self.blocks.values()))

    def shelter_week(self, shelter: int, week: int) -> Kind:
        return _entry_kind(self.blocks[week], shelter)

    def shelter(self, shelter: int) -> Kind:
        if shelter not in self.hidden_shelters:
            return None
        return _summed_kind([self.shelter_week(shelter, week) for week in self.weeks])

    def day(self, offset: int, *, selection: list[int] | None) -> Kind:
        """A day's figure: the city's entry; a selection's day is not in the release, unless the
        selection holds every shelter with answers that week (then it is the city's)."""
        week = offset - offset % WEEK
        if selection is not None and not self.totals[week].keys() <= set(selection):
            return "withheld"
        return _entry_kind(self.blocks[week], _day_key(offset))

    def total(self, *, selection: list[int] | None) -> Kind:
        for week, block in self.blocks.items():
            members = selection if selection is not None else [_day_key(o) for o in range(week, week + WEEK)]
            if not block.gives(members):
                return "withheld"
        return None


class WeeklyCounts:
    """The living issues' and needs' release: per week and counter, each shelter's count and the city's.

    `per_week` maps a week to {shelter id: the week's sums}; `columns` maps each counter that
    counts respondents to its place in those sums (the sums and quantities that go with them are
    shown or hidden with them).
    """

    def __init__(self, per_week: Mapping[int, Mapping[int, Sequence[int]]], columns: Mapping[str, int]):
        self.blocks: dict[str, list[Block]] = defaultdict(list)
        self.hidden: dict[str, set[int]] = defaultdict(set)  # per counter, the entries hidden in some week
        for name, column in columns.items():
            for rows in per_week.values():
                values = {shelter: row[column] for shelter, row in rows.items()}
                values[CITY] = sum(values.values())
                block = Block(values, negative=[CITY])
                self.blocks[name].append(block)
                self.hidden[name].update(block.hidden)

    def shelter(self, shelter: int, name: str) -> Kind:
        if shelter not in self.hidden[name]:
            return None
        return _summed_kind([_entry_kind(block, shelter) for block in self.blocks[name]])

    def total(self, name: str, *, selection: list[int] | None) -> Kind:
        if selection is None:
            return _summed_kind([_entry_kind(block, CITY) for block in self.blocks[name]])
        return None if all(block.gives(selection) for block in self.blocks[name]) else "withheld"
