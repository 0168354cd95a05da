"""Reads for the officials' reports (/reports/): stress, needs, living issues and response counts.

Everything is read from `ReportDay`, the per-shelter, per-day totals that `response_submit` keeps
in the same transaction as each response (`rollup_add`), so a 30-day report over 3,000 shelters
reads tens of thousands of small rows, not every answer. `rollup_rebuild` recomputes the totals
from the responses (after a bulk load, or to check them).

`report_build` is the one selector the page, its charts, the print page and every CSV use, so all
of them show the same figures; when the viewer must not see small cells it applies
`surveys.suppression` here, before anything is shown or exported.

A response counts as one respondent: anonymous answers cannot be told apart, so a person who
answers twice on the same day counts twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import IntegerField, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from shelters.models import Shelter
from surveys import scoring, suppression
from surveys.models import Choice, Question, QuestionCategory, ReportDay, Response

ISSUE_PREFIX = "issue_"
NEEDS_CODE = "needs"
K6_MODERATE = 10
MAX_SHELTER_LINES = 10  # per-shelter lines on the stress chart; more would be unreadable

Shown = int | float | str | None  # a number, "<5", "x", or None for "no data"

# Keys of the shelter × day table for the suppression: a cell is shelter_id * STRIDE + day offset,
# a shelter's total shelter_id * STRIDE + STRIDE - 1, a day's total -(offset + 1), the grand total
# GRAND_KEY. A report covers at most 366 days, so the ranges never meet.
STRIDE = 1024
GRAND_KEY = -STRIDE


def _shelter_key(shelter_id: int) -> int:
    return shelter_id * STRIDE + STRIDE - 1


def _day_key(offset: int) -> int:
    return -(offset + 1)


# --- Rollups ------------------------------------------------------------------------------------


def report_day_of(answered_at: dt.datetime) -> dt.date:
    """The report day of an answer: its date in Asia/Tokyo (the site's time zone)."""
    return timezone.localtime(answered_at).date()


def _contribution(*, answers: dict, k6_score: int | None) -> dict[str, Any]:
    """What one response adds to its shelter's day."""
    issues = {}
    for code, value in answers.items():
        if code.startswith(ISSUE_PREFIX) and isinstance(value, int) and not isinstance(value, bool):
            issues[code[len(ISSUE_PREFIX) :]] = [1, value]
    needs = {}
    for item in answers.get(NEEDS_CODE) or []:
        quantity = answers.get(f"needs_{item}_quantity")
        needs[item] = [1, quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else 0]
    scored = k6_score is not None
    return {
        "responses": 1,
        "k6_responses": int(scored),
        "k6_sum": k6_score or 0,
        "k6_10_or_more": int(scored and k6_score >= K6_MODERATE),
        "k6_13_or_more": int(scoring.is_serious_distress(k6_score)),
        "issues": issues,
        "needs": needs,
    }


COUNTERS = ("responses", "k6_responses", "k6_sum", "k6_10_or_more", "k6_13_or_more")


def _merge(total: dict, part: dict) -> None:
    for name in COUNTERS:
        total[name] = total.get(name, 0) + part[name]
    for name in ("issues", "needs"):
        into = total.setdefault(name, {})
        for code, (count, amount) in part[name].items():
            before = into.get(code, [0, 0])
            into[code] = [before[0] + count, before[1] + amount]


def rollup_add(*, response: Response) -> None:
    """Add one new response to its shelter's day. Called by `response_submit`, inside its transaction.

    The row is created if missing (ignoring a concurrent creator), then locked, so two responses
    at the same shelter on the same day add up instead of overwriting each other.
    """
    day = report_day_of(response.answered_at)
    ReportDay.objects.bulk_create([ReportDay(shelter_id=response.shelter_id, day=day)], ignore_conflicts=True)
    row = ReportDay.objects.select_for_update().get(shelter_id=response.shelter_id, day=day)
    totals = {name: getattr(row, name) for name in COUNTERS} | {"issues": row.issues, "needs": row.needs}
    _merge(totals, _contribution(answers=response.answers, k6_score=response.k6_score))
    for name, value in totals.items():
        setattr(row, name, value)
    row.save()


def rollup_rows(responses: Iterable[tuple[int, dt.datetime, dict, int | None]]) -> list[ReportDay]:
    """ReportDay rows recomputed from (shelter_id, answered_at, answers, k6_score) tuples."""
    by_key: dict[tuple[int, dt.date], dict] = {}
    for shelter_id, answered_at, answers, k6_score in responses:
        totals = by_key.setdefault((shelter_id, report_day_of(answered_at)), {})
        _merge(totals, _contribution(answers=answers, k6_score=k6_score))
    return [ReportDay(shelter_id=shelter_id, day=day, **totals) for (shelter_id, day), totals in by_key.items()]


def rollup_rebuild(*, batch_size: int = 2000) -> int:
    """Recompute every ReportDay from the responses; returns the number of rows. Use with writes stopped."""
    rows = rollup_rows(
        Response.objects.values_list("shelter_id", "answered_at", "answers", "k6_score").iterator(chunk_size=batch_size)
    )
    ReportDay.objects.all().delete()
    ReportDay.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


# --- Filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    start: dt.date
    end: dt.date
    shelter_ids: tuple[int, ...] = ()  # empty: every shelter the viewer may see

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=offset) for offset in range((self.end - self.start).days + 1)]


def default_filter(today: dt.date | None = None) -> ReportFilter:
    end = today or timezone.localdate()
    return ReportFilter(start=end - dt.timedelta(days=29), end=end)


# --- The report ---------------------------------------------------------------------------------


@dataclass
class StressCell:
    responses: Shown
    k6_responses: Shown
    share_13: Shown
    share_10: Shown
    mean_k6: Shown

    def as_list(self) -> list[Shown]:
        return [self.responses, self.k6_responses, self.share_13, self.share_10, self.mean_k6]


@dataclass
class Report:
    filters: ReportFilter
    suppressed: bool
    days: list[dt.date]
    total: StressCell
    daily: list[tuple[dt.date, StressCell]]
    shelters: list[tuple[int, str, StressCell]]
    issue_codes: list[str]
    heatmap: list[tuple[int, str, list[Shown]]]
    heatmap_city: list[Shown]
    needs: list[tuple[str, Shown, Shown]]
    shelter_names: dict[int, str] = field(default_factory=dict)
    # The shelter × day counts and which are hidden: the suppression covers them all, but their
    # figures are built only when asked for (the CSV), not for every page.
    cells: dict[int, list[int]] = field(default_factory=dict, repr=False)
    hidden_primary: set[int] = field(default_factory=set, repr=False)
    hidden_complementary: set[int] = field(default_factory=set, repr=False)

    @cached_property
    def shelter_days(self) -> list[tuple[int, str, dt.date, StressCell]]:
        names, start = self.shelter_names, self.filters.start
        rows = []
        for key, counts in sorted(self.cells.items()):
            shelter_id, offset = divmod(key, STRIDE)
            if shelter_id not in names:
                continue
            hidden = "primary" if key in self.hidden_primary else None
            hidden = "complementary" if key in self.hidden_complementary else hidden
            rows.append(
                (shelter_id, names[shelter_id], start + dt.timedelta(days=offset), _stress_cell(counts, hidden=hidden))
            )
        return rows


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def _stress_cell(counts: list[int], *, hidden: str | None) -> StressCell:
    """One cell's figures; `hidden` is None (shown), "primary" or "complementary"."""
    responses, k6_responses, k6_sum, k6_10, k6_13 = counts
    if hidden is None:
        return StressCell(
            responses=responses,
            k6_responses=k6_responses,
            share_13=_share(k6_13, k6_responses),
            share_10=_share(k6_10, k6_responses),
            mean_k6=_mean(k6_sum, k6_responses),
        )

    def marker(base: int) -> str | None:
        if base == 0:
            return None
        return suppression.SMALL if suppression.is_small(base) else suppression.HIDDEN

    k6_marker = marker(k6_responses)
    return StressCell(
        responses=marker(responses) if responses else 0,
        k6_responses=k6_marker if k6_responses else 0,
        share_13=k6_marker,
        share_10=k6_marker,
        mean_k6=k6_marker,
    )


def _add(into: list[int], counts: Iterable[int]) -> None:
    for index, value in enumerate(counts):
        into[index] += value


def _issue_codes() -> list[str]:
    codes = Question.objects.filter(category=QuestionCategory.LIVING, code__startswith=ISSUE_PREFIX).values_list(
        "code", "position"
    )
    ordered = sorted(set(codes), key=lambda pair: pair[1])
    seen: list[str] = []
    for code, _position in ordered:
        short = code[len(ISSUE_PREFIX) :]
        if short not in seen:
            seen.append(short)
    return seen


def _needs_codes() -> list[str]:
    values = Choice.objects.filter(question__code=NEEDS_CODE).values_list("value", "position")
    seen: list[str] = []
    for value, _position in sorted(set(values), key=lambda pair: pair[1]):
        if value not in seen:
            seen.append(value)
    return seen


def _json_sum(column: str, code: str, index: int):
    return Sum(Cast(KT(f"{column}__{code}__{index}"), IntegerField()))


def report_build(*, filters: ReportFilter, visible_shelter_ids: set[int] | None, suppressed: bool) -> Report:
    """Every figure of the report for these filters.

    `visible_shelter_ids` is None for every shelter (HQ, officials) or the shelters a manager may
    see; `suppressed` hides small cells (officials). Callers take both from `access.policy`.
    """
    rows = ReportDay.objects.filter(day__gte=filters.start, day__lte=filters.end)
    wanted: set[int] | None = set(filters.shelter_ids) if filters.shelter_ids else None
    if visible_shelter_ids is not None:
        wanted = visible_shelter_ids if wanted is None else wanted & visible_shelter_ids
    if wanted is not None:
        rows = rows.filter(shelter_id__in=sorted(wanted))

    # Shelter × day, with shelter totals (row margins), city per day (column margins) and the total.
    # Keys are ints (see STRIDE): 60,000 cells are hashed several times each below.
    offsets: dict[dt.date, int] = {day: index for index, day in enumerate(filters.days)}
    cells: dict[int, list[int]] = {}
    shelter_totals: dict[int, list[int]] = {}
    day_totals: dict[int, list[int]] = {}
    for shelter_id, day, *counts in rows.values_list("shelter_id", "day", *COUNTERS):
        offset = offsets[day]
        cells[shelter_id * STRIDE + offset] = counts
        # Inline, not a helper: this loop runs once per shelter and day (60,000 times a month).
        total = shelter_totals.get(shelter_id)
        if total is None:
            shelter_totals[shelter_id] = counts[:]
        else:
            total[0] += counts[0]
            total[1] += counts[1]
            total[2] += counts[2]
            total[3] += counts[3]
            total[4] += counts[4]
        total = day_totals.get(offset)
        if total is None:
            day_totals[offset] = counts[:]
        else:
            total[0] += counts[0]
            total[1] += counts[1]
            total[2] += counts[2]
            total[3] += counts[3]
            total[4] += counts[4]
    grand = [0] * 5
    for counts in day_totals.values():
        _add(grand, counts)
    shelter_ids = sorted(set(shelter_totals) | (wanted or set()) if filters.shelter_ids else set(shelter_totals))
    names = dict(Shelter.objects.filter(pk__in=shelter_ids).values_list("pk", "name"))
    shelter_ids = [pk for pk in shelter_ids if pk in names]
    days = filters.days

    primary: set[int] = set()
    complementary: set[int] = set()
    if suppressed:
        small = suppression.THRESHOLD
        values: dict[int, int] = {key: counts[0] for key, counts in cells.items()}
        primary = {key for key, counts in cells.items() if 0 < counts[0] < small or 0 < counts[1] < small}
        margins = [(_shelter_key(pk), counts) for pk, counts in shelter_totals.items()]
        margins += [(_day_key(offset), counts) for offset, counts in day_totals.items()]
        margins.append((GRAND_KEY, grand))
        for key, counts in margins:
            values[key] = counts[0]
            if 0 < counts[0] < small or 0 < counts[1] < small:
                primary.add(key)
        cells_by_shelter: dict[int, list[int]] = defaultdict(list)
        cells_by_day: dict[int, list[int]] = defaultdict(list)
        for key in cells:
            cells_by_shelter[key // STRIDE].append(key)
            cells_by_day[key % STRIDE].append(key)
        lines = [suppression.Line(keys, _shelter_key(pk)) for pk, keys in cells_by_shelter.items()]
        row_line = {pk: index for index, pk in enumerate(cells_by_shelter)}
        column_line = {offset: len(row_line) + index for index, offset in enumerate(cells_by_day)}
        lines += [suppression.Line(keys, _day_key(offset)) for offset, keys in cells_by_day.items()]
        shelter_margin_line, day_margin_line = len(lines), len(lines) + 1
        lines.append(suppression.Line([_shelter_key(pk) for pk in shelter_totals], GRAND_KEY))
        lines.append(suppression.Line([_day_key(offset) for offset in day_totals], GRAND_KEY))

        def lines_of(key: int) -> tuple[int, ...]:
            if key == GRAND_KEY:
                return (shelter_margin_line, day_margin_line)
            if key < 0:
                return (column_line[-key - 1], day_margin_line)
            shelter_id, offset = divmod(key, STRIDE)
            if offset == STRIDE - 1:
                return (row_line[shelter_id], shelter_margin_line)
            return (row_line[shelter_id], column_line[offset])

        primary, complementary = suppression.protect(values, lines, primary=primary, lines_of=lines_of)

    def kind(key: int) -> str | None:
        return "primary" if key in primary else "complementary" if key in complementary else None

    zero = [0] * 5
    daily = [
        (day, _stress_cell(day_totals.get(offset, zero), hidden=kind(_day_key(offset))))
        for offset, day in enumerate(days)
    ]
    shelters = [
        (pk, names[pk], _stress_cell(shelter_totals.get(pk, zero), hidden=kind(_shelter_key(pk)))) for pk in shelter_ids
    ]
    total = _stress_cell(grand, hidden=kind(GRAND_KEY))

    issue_codes, needs_codes = _issue_codes(), _needs_codes()
    # Living issues and needs per shelter in one pass over the rows (the JSON is the costly part).
    aggregates = {}
    for index, code in enumerate(issue_codes):
        aggregates[f"n{index}"] = _json_sum("issues", code, 0)
        aggregates[f"s{index}"] = _json_sum("issues", code, 1)
    for index, code in enumerate(needs_codes):
        aggregates[f"needs_n{index}"] = _json_sum("needs", code, 0)
        aggregates[f"needs_q{index}"] = _json_sum("needs", code, 1)
    per_shelter = _per_shelter(rows.values("shelter_id").annotate(**aggregates).order_by()) if aggregates else {}
    heatmap, heatmap_city = _heatmap(per_shelter, issue_codes, shelter_ids, names, suppressed=suppressed)
    needs = _needs(per_shelter, needs_codes, suppressed=suppressed)
    return Report(
        filters=filters,
        suppressed=suppressed,
        days=days,
        total=total,
        daily=daily,
        shelters=shelters,
        issue_codes=issue_codes,
        heatmap=heatmap,
        heatmap_city=heatmap_city,
        needs=needs,
        shelter_names=names,
        cells=cells,
        hidden_primary=primary,
        hidden_complementary=complementary,
    )


def _per_shelter(queryset) -> dict[int, dict[str, int | None]]:
    """The grouped sums by shelter, read with a plain cursor: Django's per-value converters cost
    more than the query for 3,000 rows of 46 sums."""
    sql, params = queryset.query.sql_with_params()
    names = list(queryset.query.annotation_select)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: dict(zip(names, row[1:], strict=True)) for row in cursor.fetchall()}


def _heatmap(per_shelter: dict, codes: list[str], shelter_ids: list[int], names: dict[int, str], *, suppressed: bool):
    """Shelter × living issue: mean of the 0–4 answers; each issue's column adds up to the city's."""
    if not codes:
        return [], []
    count_names = [f"n{i}" for i in range(len(codes))]
    sum_names = [f"s{i}" for i in range(len(codes))]
    counts: dict[tuple, int] = {}
    sums: dict[tuple, int] = {}
    empty: dict = {}
    for pk in shelter_ids:
        row = per_shelter.get(pk, empty)
        for i, (count_name, sum_name) in enumerate(zip(count_names, sum_names, strict=True)):
            counts[(pk, i)] = row.get(count_name) or 0
            sums[(pk, i)] = row.get(sum_name) or 0
    for i in range(len(codes)):
        counts[("city", i)] = sum(counts[(pk, i)] for pk in shelter_ids)
        sums[("city", i)] = sum(sums[(pk, i)] for pk in shelter_ids)
    hidden_kind: dict = {}
    if suppressed:
        lines = [suppression.Line([(pk, i) for pk in shelter_ids], ("city", i)) for i in range(len(codes))]
        first, second = suppression.protect(counts, lines)
        hidden_kind = {key: suppression.SMALL for key in first} | {key: suppression.HIDDEN for key in second}

    def shown(key) -> Shown:
        if key in hidden_kind:
            return hidden_kind[key]
        return _mean(sums[key], counts[key])

    table = [(pk, names[pk], [shown((pk, i)) for i in range(len(codes))]) for pk in shelter_ids]
    return table, [shown(("city", i)) for i in range(len(codes))]


def _needs(per_shelter: dict, codes: list[str], *, suppressed: bool) -> list[tuple[str, Shown, Shown]]:
    """Needs ranking: items by respondents asking, with the total quantity asked for.

    Ties go to the larger quantity. Items do not add up to a total (one person may ask for several), so only small counts are
    hidden; a hidden item's quantity is hidden with it.
    """
    ranking = []
    for index, code in enumerate(codes):
        count = sum(row[f"needs_n{index}"] or 0 for row in per_shelter.values())
        quantity = sum(row[f"needs_q{index}"] or 0 for row in per_shelter.values())
        if count == 0:
            continue
        ranking.append((code, count, quantity))
    ranking.sort(key=lambda item: (-item[1], -item[2], item[0]))
    if not suppressed:
        return ranking
    shown = [item for item in ranking if not suppression.is_small(item[1])]
    small = sorted(code for code, count, _quantity in ranking if suppression.is_small(count))
    return shown + [(code, suppression.SMALL, suppression.SMALL) for code in small]


def shelter_lines(report: Report) -> list[tuple[int, str, list[Shown]]]:
    """Per-shelter share of K6 ≥ 13 by day, for the chart, when few shelters are selected."""
    if not report.filters.shelter_ids or len(report.shelters) > MAX_SHELTER_LINES:
        return []
    by_key = {(pk, day): cell for pk, _name, day, cell in report.shelter_days}
    return [
        (pk, name, [by_key[(pk, day)].share_13 if (pk, day) in by_key else None for day in report.days])
        for pk, name, _cell in report.shelters
    ]
