"""Reads for the officials' reports (/reports/): stress, needs, living issues and response counts.

Everything is read from `ReportDay`, the per-shelter, per-day totals that `response_submit` keeps
in the same transaction as each response (`rollup_add`), so a 30-day report over 3,000 shelters
reads tens of thousands of small rows, not every answer. `rollup_rebuild` recomputes the totals
from the responses (after a bulk load, or to check them).

`report_build` is the one selector the page, its charts, the print page and every CSV use, so all
of them show the same figures; when the viewer must not see small cells it builds the report from
the fixed weekly release (`surveys.reports.release`), before anything is shown or exported.

A response counts as one respondent: anonymous answers cannot be told apart, so a person who
answers twice on the same day counts twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import Case, F, Func, IntegerField, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from shelters.models import Shelter
from surveys import scoring, suppression
from surveys.models import Choice, Question, QuestionCategory, ReportDay, Response
from surveys.reports import release

ISSUE_PREFIX = "issue_"
NEEDS_CODE = "needs"
K6_MODERATE = 10
MAX_SHELTER_LINES = 10  # per-shelter lines on the stress chart; more would be unreadable

Shown = int | float | str | None  # a number, "<5", "x", or None for "no data"

# Keys of the shelter × day cells: shelter_id * STRIDE + day offset (for officials, the offset of
# the week's Monday: they see each shelter's weeks). A report covers at most 372 days.
STRIDE = 1024


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
    """One cell's figures; `hidden` is a release.Kind: None (shown), "primary" (a hidden entry of
    1 to 4 respondents), "complementary" (a hidden entry of 5 or more) or "withheld" (a sum the
    release does not give: every figure "x", whatever its size, zero included)."""
    responses, k6_responses, k6_sum, k6_10, k6_13 = counts
    if hidden == "withheld":
        return StressCell(*[suppression.HIDDEN] * 5)
    if hidden is None:
        return StressCell(
            responses=responses,
            k6_responses=k6_responses,
            share_13=_share(k6_13, k6_responses),
            share_10=_share(k6_10, k6_responses),
            mean_k6=_mean(k6_sum, k6_responses),
        )

    def marker(base: int) -> str:
        # A hidden entry's zero is hidden too: shown, it would make the other counters' equations
        # one unknown short (a K6 count of 0 beside a hidden partner gives the partner's K6 count).
        return suppression.SMALL if suppression.is_small(base) else suppression.HIDDEN

    k6_marker = marker(k6_responses)
    return StressCell(
        responses=marker(responses),
        k6_responses=k6_marker,
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


class _JsonInt(Func):
    """`column[code][index]` as an integer (the counts of ReportDay.issues and .needs).

    PostgreSQL gets `(column -> 'code' ->> index)::integer`: a sixth faster than the path operator
    (`#>> '{code,index}'`) that Django's KT writes, over 46 sums of 60,000 rows in a report. Other
    databases get KT.
    """

    output_field = IntegerField()

    def __init__(self, column: str, code: str, index: int):
        super().__init__(F(column), Value(code))
        self.index = int(index)
        self.portable = Cast(KT(f"{column}__{code}__{index}"), IntegerField())

    def resolve_expression(self, *args, **kwargs):
        resolved = super().resolve_expression(*args, **kwargs)
        resolved.portable = self.portable.resolve_expression(*args, **kwargs)
        return resolved

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.portable)

    def as_postgresql(self, compiler, connection, **extra_context):
        column, code = (compiler.compile(expression) for expression in self.get_source_expressions())
        return f"(({column[0]} -> {code[0]} ->> {self.index}))::integer", (*column[1], *code[1])


def _json_sum(column: str, code: str, index: int):
    return Sum(_JsonInt(column, code, index))


def report_build(
    *, filters: ReportFilter, visible_shelter_ids: set[int] | None, suppressed: bool, today: dt.date | None = None
) -> Report:
    """Every figure of the report for these filters.

    `visible_shelter_ids` is None for every shelter (HQ, officials) or the shelters a manager may
    see; `suppressed` (officials) builds the report from the fixed weekly release
    (surveys/reports/release.py): the dates widen to whole weeks that have ended (before `today`),
    and a figure is shown only when that release gives it. Callers take both from `access.policy`.
    """
    if suppressed:
        start, end = release.officials_dates(filters.start, filters.end, today=today or timezone.localdate())
        filters = ReportFilter(start=start, end=end, shelter_ids=filters.shelter_ids)
    in_scope = ReportDay.objects.filter(day__gte=filters.start, day__lte=filters.end)
    if visible_shelter_ids is not None:
        in_scope = in_scope.filter(shelter_id__in=sorted(visible_shelter_ids))
    wanted: set[int] | None = set(filters.shelter_ids) if filters.shelter_ids else None
    if visible_shelter_ids is not None:
        wanted = visible_shelter_ids if wanted is None else wanted & visible_shelter_ids
    rows = in_scope if wanted is None else in_scope.filter(shelter_id__in=sorted(wanted))
    days = filters.days
    selection = sorted(wanted or ()) if suppressed and filters.shelter_ids else None
    if suppressed:
        weekly = _weekly_sums(in_scope, filters.start, len(days), {name: Sum(name) for name in COUNTERS})
        stress = release.WeeklyStress(weekly, _city_days(in_scope, filters.start), days=len(days))
        shelter_totals = _summed_weeks(weekly, wanted)
        # A selection's day is shown only when it holds every shelter with answers that week
        # (`WeeklyStress.day`): then it is the city's day, which the release holds.
        day_totals = stress.day_totals
        day_kind = functools.partial(stress.day, selection=selection)
        shelter_kind = stress.shelter
        total_kind = stress.total(selection=selection)
    else:
        cells, shelter_totals, day_totals = _exact_cells(rows, filters.days)
        day_kind = shelter_kind = _shown
        total_kind = None
    grand = [0] * 5
    for counts in shelter_totals.values():
        _add(grand, counts)
    shelter_ids = sorted(set(shelter_totals) | (wanted or set()) if filters.shelter_ids else set(shelter_totals))
    names = _names(shelter_ids)
    shelter_ids = [pk for pk in shelter_ids if pk in names]
    primary: set[int] = set()
    complementary: set[int] = set()
    if suppressed:
        cells, primary, complementary = _week_cells(stress, shelter_ids)

    zero = [0] * 5
    daily = [
        (day, _stress_cell(day_totals.get(offset, zero), hidden=day_kind(offset))) for offset, day in enumerate(days)
    ]
    shelters = [
        (pk, names[pk], _stress_cell(shelter_totals.get(pk, zero), hidden=shelter_kind(pk))) for pk in shelter_ids
    ]
    total = _stress_cell(grand, hidden=total_kind)

    issue_codes, needs_codes = _issue_codes(), _needs_codes()
    # Living issues and needs per shelter in one pass over the rows (the JSON is the costly part).
    aggregates = {}
    for index, code in enumerate(issue_codes):
        aggregates[f"n{index}"] = _json_sum("issues", code, 0)
        aggregates[f"s{index}"] = _json_sum("issues", code, 1)
    for index, code in enumerate(needs_codes):
        aggregates[f"needs_n{index}"] = _json_sum("needs", code, 0)
        aggregates[f"needs_q{index}"] = _json_sum("needs", code, 1)
    count_kind = _always_shown
    if suppressed and aggregates:
        # The release: per week, each shelter's respondent counts (the sums go with them). One
        # grouped query gives the weeks, and the selection's sums are added up from them: the JSON,
        # the costly part, is read once.
        per_week = _weekly_sums(in_scope, filters.start, len(days), aggregates)
        names_in_order = list(aggregates)
        per_shelter = {
            pk: dict(zip(names_in_order, sums, strict=True)) for pk, sums in _summed_weeks(per_week, wanted).items()
        }
        counted = [f"n{index}" for index in range(len(issue_codes))]
        counted += [f"needs_n{index}" for index in range(len(needs_codes))]
        counts = release.WeeklyCounts(per_week, {name: names_in_order.index(name) for name in counted})

        def count_kind(key, name: str) -> release.Kind:
            if key == "city":
                return counts.total(name, selection=selection)
            return counts.shelter(key, name)

    else:
        per_shelter = _per_shelter(rows.values("shelter_id").annotate(**aggregates).order_by()) if aggregates else {}

    heatmap, heatmap_city = _heatmap(per_shelter, issue_codes, shelter_ids, names, kind_of=count_kind)
    needs = _needs(per_shelter, needs_codes, kind_of=count_kind)
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


def _names(shelter_ids: list[int]) -> dict[int, str]:
    """The shelters' names, of those that exist. Every name is read and the wanted picked in
    Python: an IN list of thousands of ids costs Django more to build than the rows it saves."""
    wanted = set(shelter_ids)
    return {pk: name for pk, name in Shelter.objects.values_list("pk", "name") if pk in wanted}


def _shown(_key) -> None:
    return None


def _always_shown(_key, _name: str) -> None:
    return None


def _exact_cells(rows, days: list[dt.date]) -> tuple[dict[int, list[int]], dict[int, list[int]], dict[int, list[int]]]:
    """The exact report's shelter × day cells (keys: see STRIDE), with their shelter and day totals."""
    offsets: dict[dt.date, int] = {day: index for index, day in enumerate(days)}
    cells: dict[int, list[int]] = {}
    shelter_totals: dict[int, list[int]] = {}
    day_totals: dict[int, list[int]] = {}
    for shelter_id, day, *counts in rows.values_list("shelter_id", "day", *COUNTERS):
        offset = offsets[day]
        cells[shelter_id * STRIDE + offset] = counts
        # Inline, not a helper: this loop runs once per shelter and day (60,000 times a month).
        for totals, key in ((shelter_totals, shelter_id), (day_totals, offset)):
            total = totals.get(key)
            if total is None:
                totals[key] = counts[:]
            else:
                total[0] += counts[0]
                total[1] += counts[1]
                total[2] += counts[2]
                total[3] += counts[3]
                total[4] += counts[4]
    return cells, shelter_totals, day_totals


def _week_of(start: dt.date, days: int) -> Case:
    """A row's week, as the day offset of its Monday from `start` (a Monday). A CASE over the
    weeks rather than date arithmetic, which every database spells differently."""
    whens = [
        When(day__lt=start + dt.timedelta(days=week + release.WEEK), then=Value(week))
        for week in range(0, days, release.WEEK)
    ]
    return Case(*whens, output_field=IntegerField())


def _weekly_sums(rows, start: dt.date, days: int, aggregates: dict) -> dict[int, dict[int, tuple[int, ...]]]:
    """{week: {shelter id: the sums in `aggregates` order}}, summed by the database (a missing
    value counts 0): the release's entries without a Python loop over the shelters' days."""
    summed = {name: Coalesce(aggregate, 0) for name, aggregate in aggregates.items()}
    grouped = rows.annotate(week=_week_of(start, days)).values("shelter_id", "week").annotate(**summed).order_by()
    weekly: dict[int, dict[int, tuple[int, ...]]] = {week: {} for week in range(0, days, release.WEEK)}
    for shelter_id, week, *sums in _fetch(grouped):
        weekly[week][shelter_id] = tuple(sums)
    return weekly


def _summed_weeks(weekly: dict[int, dict[int, tuple[int, ...]]], wanted: set[int] | None) -> dict[int, list[int]]:
    """Each wanted shelter's sums over the weeks (every shelter's when `wanted` is None)."""
    totals: dict[int, list[int]] = {}
    for rows in weekly.values():
        for shelter_id, sums in rows.items():
            if wanted is not None and shelter_id not in wanted:
                continue
            total = totals.get(shelter_id)
            totals[shelter_id] = list(sums) if total is None else list(map(operator.add, total, sums))
    return totals


def _city_days(rows, start: dt.date) -> dict[int, tuple[int, ...]]:
    """The city's five counters per day, keyed by the day's offset from `start`."""
    per_day = rows.values("day").annotate(**{name: Sum(name) for name in COUNTERS}).order_by()
    return {(day - start).days: tuple(counts) for day, *counts in per_day.values_list("day", *COUNTERS)}


def _week_cells(stress: release.WeeklyStress, shelter_ids: list[int]) -> tuple[dict[int, Any], set[int], set[int]]:
    """The officials' shelter × week cells (keys: see STRIDE, with the week's Monday) and which are
    hidden (primary, complementary): a shelter's day is not in the release."""
    cells: dict[int, Any] = {}
    primary: set[int] = set()
    complementary: set[int] = set()
    for week, totals in stress.totals.items():
        for pk in shelter_ids:
            if pk in totals:
                key = pk * STRIDE + week
                cells[key] = totals[pk]
                kind = stress.shelter_week(pk, week)
                (primary if kind == "primary" else complementary if kind else set()).add(key)
    return cells, primary, complementary


def _fetch(queryset) -> list[tuple]:
    """A queryset's rows read with a plain cursor: Django's per-value converters cost more than
    the query for thousands of rows of dozens of sums."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _per_shelter(queryset) -> dict[int, dict[str, int | None]]:
    """The grouped sums by shelter, by name."""
    names = list(queryset.query.annotation_select)
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in _fetch(queryset)}


MARKERS = {"primary": suppression.SMALL, "complementary": suppression.HIDDEN, "withheld": suppression.HIDDEN}


def _heatmap(per_shelter: dict, codes: list[str], shelter_ids: list[int], names: dict[int, str], *, kind_of):
    """Shelter × living issue: mean of the 0–4 answers, per shelter and over them all.

    `kind_of(shelter id or "city", counter name)` says how a figure is shown (release.Kind).
    """
    if not codes:
        return [], []
    empty: dict = {}
    city = {name: 0 for index in range(len(codes)) for name in (f"n{index}", f"s{index}")}
    for pk in shelter_ids:
        for name in city:
            city[name] += per_shelter.get(pk, empty).get(name) or 0

    def shown(key, row: dict, index: int) -> Shown:
        kind = kind_of(key, f"n{index}")
        if kind is not None:
            return MARKERS[kind]
        return _mean(row.get(f"s{index}") or 0, row.get(f"n{index}") or 0)

    table = [
        (pk, names[pk], [shown(pk, per_shelter.get(pk, empty), index) for index in range(len(codes))])
        for pk in shelter_ids
    ]
    return table, [shown("city", city, index) for index in range(len(codes))]


def _needs(per_shelter: dict, codes: list[str], *, kind_of) -> list[tuple[str, Shown, Shown]]:
    """Needs ranking: items by respondents asking, with the total quantity asked for.

    Ties go to the larger quantity. Hidden items follow the shown ones, in catalogue code order, so
    the order does not tell their sizes apart; a hidden item's quantity is hidden with it. An item
    nobody asked for is left out only when that zero is itself shown.
    """
    ranking, hidden = [], []
    for index, code in enumerate(codes):
        count = sum(row[f"needs_n{index}"] or 0 for row in per_shelter.values())
        quantity = sum(row[f"needs_q{index}"] or 0 for row in per_shelter.values())
        kind = kind_of("city", f"needs_n{index}")
        if kind is not None:
            hidden.append((code, MARKERS[kind], MARKERS[kind]))
        elif count:
            ranking.append((code, count, quantity))
    ranking.sort(key=lambda item: (-item[1], -item[2], item[0]))
    return ranking + sorted(hidden)


def shelter_lines(report: Report) -> list[tuple[int, str, list[Shown]]]:
    """Per-shelter share of K6 ≥ 13 by day, for the chart, when few shelters are selected."""
    if report.suppressed or not report.filters.shelter_ids or len(report.shelters) > MAX_SHELTER_LINES:
        return []
    by_key = {(pk, day): cell for pk, _name, day, cell in report.shelter_days}
    return [
        (pk, name, [by_key[(pk, day)].share_13 if (pk, day) in by_key else None for day in report.days])
        for pk, name, _cell in report.shelters
    ]
