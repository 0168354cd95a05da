"""The officials' survey reports: figures over a known dataset, suppression, CSV, filters, permissions."""

import csv
import datetime as dt
import io
import itertools
from collections import defaultdict

import pytest
from django.urls import reverse
from django.utils import timezone

from shelters.models import DataSource
from surveys.models import ReportDay, Response, ResponseChannel, SurveyVersion
from surveys.reports.build import ReportFilter, report_build, rollup_rebuild
from surveys.services import response_submit
from surveys.suppression import HIDDEN, SMALL
from tests.factories import ShelterFactory
from tests.surveys.linear import RowSpace

pytestmark = pytest.mark.django_db

DAY_1 = dt.date(2026, 11, 2)
DAY_2 = dt.date(2026, 11, 3)
K6_VALUES = ["never", "a_little", "sometimes", "mostly", "always"]  # scores 0..4
_keys = itertools.count()


def k6_answers(score: int) -> dict:
    """Six K6 answers adding up to `score`."""
    answers = {}
    for item in range(1, 7):
        part = min(4, score)
        answers[f"k6_{item}"] = K6_VALUES[part]
        score -= part
    return answers


def answer(shelter, day: dt.date, *, k6: int | None = None, hour: int = 12, **extra):
    """One response through the one write path, at `hour` o'clock Tokyo time on `day`."""
    raw = k6_answers(k6) if k6 is not None else {}
    raw.update(extra)
    answered_at = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone(dt.timedelta(hours=9)))
    response, created = response_submit(
        version=SurveyVersion.objects.get(survey__code="evacuation-life", is_current=True),
        shelter=shelter,
        raw_answers=raw,
        channel=ResponseChannel.IMPORT,
        submission_key=f"test-{next(_keys)}",
        answered_at=answered_at,
        source=DataSource.REAL,
    )
    assert created
    return response


@pytest.fixture
def dataset(shelter_a, shelter_b):
    """Shelter A: six scored answers on day 1 and one unscored on day 2; shelter B: two on day 1."""
    for score in (13, 15, 10, 5, 0, 24):
        answer(
            shelter_a,
            DAY_1,
            k6=score,
            issue_toilets=4,
            issue_noise=2,
            needs=["water", "blankets"],
            needs_water_quantity=2,
            needs_blankets_quantity=1,
        )
    answer(shelter_a, DAY_2, issue_toilets=1)
    answer(shelter_b, DAY_1, k6=20, issue_toilets=3, needs=["water"], needs_water_quantity=5)
    answer(shelter_b, DAY_1, k6=3, issue_toilets=1, needs=["diapers"], needs_diapers_quantity=10)


def build(*, suppressed: bool, shelters=(), start=DAY_1, end=DAY_2, scope=None, today=None):
    return report_build(
        filters=ReportFilter(start=start, end=end, shelter_ids=tuple(shelters)),
        visible_shelter_ids=scope,
        suppressed=suppressed,
        today=today,
    )


# --- Figures ------------------------------------------------------------------------------------


def test_the_city_wide_stress_figures_per_day_match_the_answers(dataset):
    report = build(suppressed=False)
    (day_1, first), (day_2, second) = report.daily
    assert (day_1, day_2) == (DAY_1, DAY_2)
    # Scores 13, 15, 10, 5, 0, 24, 20, 3: four at 13 or more, five at 10 or more, mean 90 / 8.
    assert first.as_list() == [8, 8, 50.0, 62.5, 11.25]
    # Day 2's only response has no K6 score: it counts as a response, not in the shares.
    assert second.as_list() == [1, 0, None, None, None]
    assert report.total.as_list() == [9, 8, 50.0, 62.5, 11.25]


def test_the_per_shelter_figures_and_the_shelter_day_cells_match_the_answers(dataset, shelter_a, shelter_b):
    report = build(suppressed=False)
    by_shelter = {pk: cell.as_list() for pk, _name, cell in report.shelters}
    assert by_shelter[shelter_a.pk] == [7, 6, 50.0, 66.7, 11.17]
    assert by_shelter[shelter_b.pk] == [2, 2, 50.0, 50.0, 11.5]
    cells = {(pk, day): cell.as_list() for pk, _name, day, cell in report.shelter_days}
    assert cells == {
        (shelter_a.pk, DAY_1): [6, 6, 50.0, 66.7, 11.17],
        (shelter_a.pk, DAY_2): [1, 0, None, None, None],
        (shelter_b.pk, DAY_1): [2, 2, 50.0, 50.0, 11.5],
    }


def test_the_needs_ranking_counts_respondents_and_adds_quantities(dataset):
    report = build(suppressed=False)
    assert report.needs == [("water", 7, 17), ("blankets", 6, 6), ("diapers", 1, 10)]


def test_the_living_issues_heatmap_is_the_mean_per_shelter_and_city_wide(dataset, shelter_a, shelter_b):
    report = build(suppressed=False)
    toilets, noise = report.issue_codes.index("toilets"), report.issue_codes.index("noise")
    rows = {pk: values for pk, _name, values in report.heatmap}
    assert rows[shelter_a.pk][toilets] == round((6 * 4 + 1) / 7, 2)
    assert rows[shelter_a.pk][noise] == 2.0
    assert rows[shelter_b.pk][toilets] == 2.0
    assert rows[shelter_b.pk][noise] is None
    assert report.heatmap_city[toilets] == round((24 + 1 + 3 + 1) / 9, 2)


def test_a_day_is_a_tokyo_day(shelter_a):
    # 00:30 in Tokyo on day 2 is still day 1 in UTC.
    answer(shelter_a, DAY_2, k6=1, hour=0)
    assert list(ReportDay.objects.values_list("day", flat=True)) == [DAY_2]


# --- Rollups ------------------------------------------------------------------------------------


def _recomputed() -> dict:
    """The per-shelter, per-day totals straight from the responses, written out plainly."""
    totals = defaultdict(lambda: {"n": 0, "k6n": 0, "k6": 0, "10": 0, "13": 0, "issues": {}, "needs": {}})
    for response in Response.objects.all():
        day = response.answered_at.astimezone(dt.timezone(dt.timedelta(hours=9))).date()
        row = totals[(response.shelter_id, day)]
        row["n"] += 1
        if response.k6_score is not None:
            row["k6n"] += 1
            row["k6"] += response.k6_score
            row["10"] += response.k6_score >= 10
            row["13"] += response.k6_score >= 13
        for code, value in response.answers.items():
            if code.startswith("issue_"):
                count, total = row["issues"].get(code[6:], [0, 0])
                row["issues"][code[6:]] = [count + 1, total + value]
        for item in response.answers.get("needs", []):
            count, total = row["needs"].get(item, [0, 0])
            row["needs"][item] = [count + 1, total + response.answers.get(f"needs_{item}_quantity", 0)]
    return dict(totals)


def _stored() -> dict:
    return {
        (row.shelter_id, row.day): {
            "n": row.responses,
            "k6n": row.k6_responses,
            "k6": row.k6_sum,
            "10": row.k6_10_or_more,
            "13": row.k6_13_or_more,
            "issues": row.issues,
            "needs": row.needs,
        }
        for row in ReportDay.objects.all()
    }


def test_the_rollups_kept_by_each_submission_agree_with_a_plain_recomputation(dataset, shelter_a):
    answer(shelter_a, DAY_2, k6=14, hour=0, issue_privacy=3, needs=["other"], needs_other_text="眼鏡")
    answer(shelter_a, DAY_2, k6=14, hour=23, issue_privacy=1)
    assert _stored() == _recomputed()
    assert ReportDay.objects.count() == 3


def test_rebuilding_the_rollups_gives_the_same_rows(dataset):
    before = _stored()
    ReportDay.objects.all().delete()
    assert rollup_rebuild() == 3
    assert _stored() == before == _recomputed()


def test_a_repeated_submission_is_counted_once(shelter_a):
    version = SurveyVersion.objects.get(survey__code="evacuation-life", is_current=True)
    for _attempt in range(2):
        response_submit(
            version=version,
            shelter=shelter_a,
            raw_answers=k6_answers(5),
            channel=ResponseChannel.IMPORT,
            submission_key="same-key",
        )
    assert ReportDay.objects.get().responses == 1


# --- Suppression --------------------------------------------------------------------------------


def _hidden(value) -> bool:
    return value in (SMALL, HIDDEN)


def assert_no_cell_can_be_worked_out(report):
    """No hidden figure of the report follows from its shown ones: each figure is an equation over
    the shelter × day counts, solved exactly (tests/surveys/linear.py)."""
    shelters = [pk for pk, _name, _cell in report.shelters]

    def cells(pks, days):
        return {(pk, day): 1 for pk in pks for day in days}

    week = [dt.timedelta(days=offset) for offset in range(7)]  # officials' shelter × day rows are weeks
    figures = [(cells([pk], report.days), cell.responses) for pk, _name, cell in report.shelters]
    figures += [(cells(shelters, [day]), cell.responses) for day, cell in report.daily]
    figures.append((cells(shelters, report.days), report.total.responses))
    figures += [
        (cells([pk], [monday + offset for offset in week]), cell.responses)
        for pk, _name, monday, cell in report.shelter_days
    ]
    space = RowSpace()
    for coefficients, value in figures:
        if not _hidden(value):
            space.add(coefficients)
    hidden = [coefficients for coefficients, value in figures if _hidden(value)]
    assert hidden, "the report hides something"
    assert not [coefficients for coefficients in hidden if space.determines(coefficients)]


def test_officials_see_small_cells_as_less_than_five(dataset, shelter_b):
    report = build(suppressed=True)
    shelter_b_row = next(cell for pk, _name, cell in report.shelters if pk == shelter_b.pk)
    assert shelter_b_row.as_list() == [SMALL] * 5


def test_officials_get_whole_weeks_that_have_ended(dataset):
    report = build(suppressed=True, start=DAY_2, end=DAY_2)
    # DAY_1 is a Monday: the week runs from it to the Sunday after.
    assert (report.filters.start, report.filters.end) == (DAY_1, DAY_1 + dt.timedelta(days=6))
    assert len(report.daily) == 7
    report = build(suppressed=True, end=dt.date(2026, 12, 30), today=dt.date(2026, 11, 25))
    assert report.filters.end == dt.date(2026, 11, 22)  # the last Sunday before the running week
    report = build(suppressed=True, end=dt.date(2026, 12, 30), today=dt.date(2026, 11, 23))
    assert report.filters.end == dt.date(2026, 11, 22)  # on Monday, yesterday's week has ended
    assert build(suppressed=False, end=DAY_2).filters.end == DAY_2  # HQ chooses any day


def test_a_hidden_figure_cannot_be_derived_from_the_totals_and_the_other_figures(dataset, shelter_a, shelter_b):
    report = build(suppressed=True)
    shelters = {pk: cell for pk, _name, cell in report.shelters}
    daily = dict(report.daily)
    # The week's equation: A 7 + B 2 = 8 on day 1 + 1 on day 2. B's 2 and day 2's 1 are hidden,
    # each the other's partner; the week's total, 7 + B, would give B back, so it is hidden too.
    assert shelters[shelter_a.pk].responses == 7
    assert shelters[shelter_b.pk].responses == SMALL
    assert (daily[DAY_1].responses, daily[DAY_2].responses) == (8, SMALL)
    assert report.total.responses == HIDDEN
    # A hidden count takes its means and shares with it, and its zeros: day 2's K6 count is 0.
    assert daily[DAY_2].as_list() == [SMALL, HIDDEN, HIDDEN, HIDDEN, HIDDEN]
    assert report.total.as_list() == [HIDDEN] * 5
    assert_no_cell_can_be_worked_out(report)


def test_suppression_holds_on_a_larger_table_with_many_small_cells(shelter_a, shelter_b):
    shelters = [shelter_a, shelter_b, ShelterFactory(), ShelterFactory()]
    pattern = [[6, 1, 0], [7, 8, 5], [0, 0, 3], [9, 6, 12]]
    for shelter, counts in zip(shelters, pattern, strict=True):
        for offset, count in enumerate(counts):
            for index in range(count):
                answer(shelter, DAY_1 + dt.timedelta(days=offset), k6=index % 20, issue_toilets=index % 5)
    report = build(suppressed=True, end=DAY_1 + dt.timedelta(days=2))
    assert_no_cell_can_be_worked_out(report)
    shown = [cell.responses for _pk, _name, _day, cell in report.shelter_days]
    assert SMALL in shown and HIDDEN in shown
    assert any(isinstance(value, int) for value in shown)
    # The heatmap's columns follow the same rule: each issue column adds up to the city-wide mean.
    toilets = report.issue_codes.index("toilets")
    column = [values[toilets] for _pk, _name, values in report.heatmap]
    if any(_hidden(value) for value in column):
        assert _hidden(report.heatmap_city[toilets]) or sum(map(_hidden, column)) >= 2


def test_the_needs_ranking_hides_items_asked_by_fewer_than_five(dataset):
    report = build(suppressed=True)
    assert report.needs == [("water", 7, 17), ("blankets", 6, 6), ("diapers", SMALL, SMALL)]


def test_hq_sees_exact_figures(dataset, shelter_b):
    report = build(suppressed=False)
    shelter_b_row = next(cell for pk, _name, cell in report.shelters if pk == shelter_b.pk)
    assert shelter_b_row.responses == 2


# --- Filters ------------------------------------------------------------------------------------


def test_the_date_filter_keeps_only_its_tokyo_days(dataset):
    report = build(suppressed=False, start=DAY_2, end=DAY_2)
    assert [day for day, _cell in report.daily] == [DAY_2]
    assert report.total.responses == 1
    assert report.needs == []


def test_the_shelter_filter_keeps_only_the_chosen_shelters(dataset, shelter_a):
    report = build(suppressed=False, shelters=[shelter_a.pk])
    assert [pk for pk, _name, _cell in report.shelters] == [shelter_a.pk]
    assert report.total.responses == 7
    assert report.needs == [("water", 6, 12), ("blankets", 6, 6)]


# --- Pages, CSV and permissions ----------------------------------------------------------------


def _query(**extra) -> dict:
    return {"start": DAY_1.isoformat(), "end": DAY_2.isoformat(), **extra}


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_csv_export_is_suppressed_like_the_page(dataset, official, as_user, shelter_a, shelter_b):
    client = as_user(official)
    report = build(suppressed=True)
    rows = _csv(client.get(reverse("reports:csv", args=["shelter-days"]), _query()))
    exported = {(row[0], row[2]): row[3:] for row in rows[1:]}
    for pk, _name, day, cell in report.shelter_days:
        assert exported[(str(pk), day.isoformat())] == ["" if v is None else str(v) for v in cell.as_list()]
    assert exported[(str(shelter_b.pk), DAY_1.isoformat())][0] == SMALL  # B's week, from Monday DAY_1
    daily = _csv(client.get(reverse("reports:csv", args=["daily"]), _query()))
    assert [row[1:] for row in daily[1:]] == [
        ["" if v is None else str(v) for v in cell.as_list()] for _day, cell in report.daily
    ]
    shelters = _csv(client.get(reverse("reports:csv", args=["shelters"]), _query()))
    assert [SMALL] * 5 in [row[2:] for row in shelters]
    assert shelters[-1][2:] == [HIDDEN] * 5  # the week's total
    needs = _csv(client.get(reverse("reports:csv", args=["needs"]), _query()))
    assert needs[-1][0] == "diapers" and needs[-1][2:] == [SMALL, SMALL]
    page = client.get(reverse("reports:index"), _query())
    assert page.status_code == 200
    assert page.context["report"].shelter_days == report.shelter_days


def test_hq_exports_exact_figures(dataset, hq, as_user, shelter_b):
    rows = _csv(as_user(hq).get(reverse("reports:csv", args=["shelters"]), _query()))
    row = next(row for row in rows if row[0] == str(shelter_b.pk))
    assert row[2:] == ["2", "2", "50.0", "50.0", "11.5"]


def test_a_bad_date_range_is_refused_naming_the_field(official, as_user):
    response = as_user(official).get(reverse("reports:index"), {"start": "2026-11-05", "end": "2026-11-01"})
    assert response.status_code == 400
    assert "start" in response.context["form"].errors
    response = as_user(official).get(reverse("reports:csv", args=["daily"]), {"start": "not-a-date"})
    assert response.status_code == 400
    assert b"start" in response.content


PAGES = [
    ("reports:index", []),
    ("reports:print", []),
    *[("reports:csv", [table]) for table in ("daily", "shelters", "shelter-days", "living-issues", "needs")],
]


@pytest.mark.parametrize(("name", "args"), PAGES)
@pytest.mark.parametrize(
    ("persona", "expected"),
    [("hq", 200), ("official", 200), ("manager_a", 200), ("manager_b", 200), ("anonymous", 302)],
)
def test_who_may_open_each_report_page_and_export(request, dataset, as_user, persona, expected, name, args):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    response = as_user(user).get(reverse(name, args=args), _query())
    assert response.status_code == expected
    if expected == 302:
        assert "/login/" in response["Location"]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_a_manager_cannot_ask_for_another_shelters_report(dataset, as_user, manager_a, shelter_b, name, args):
    response = as_user(manager_a).get(reverse(name, args=args), _query(shelter=shelter_b.pk))
    assert response.status_code == 403


def test_a_managers_report_covers_only_their_own_shelters(dataset, as_user, manager_a, shelter_a):
    response = as_user(manager_a).get(reverse("reports:index"), _query())
    report = response.context["report"]
    assert [pk for pk, _name, _cell in report.shelters] == [shelter_a.pk]
    assert report.total.responses == 7
    assert not report.suppressed
    rows = _csv(as_user(manager_a).get(reverse("reports:csv", args=["shelter-days"]), _query()))
    assert {row[0] for row in rows[1:]} == {str(shelter_a.pk)}


def test_the_reports_link_shows_for_roles_that_may_see_them(dataset, as_user, official, hq, manager_a):
    link = reverse("reports:index")
    for user in (official, hq, manager_a):
        assert f'href="{link}"' in as_user(user).get(reverse("shelters:list")).content.decode()


def test_the_print_page_has_no_navigation_and_an_a4_stylesheet(dataset, official, as_user):
    body = as_user(official).get(reverse("reports:print"), _query()).content.decode()
    assert 'class="topbar"' not in body
    assert "report_print.css" in body
    assert SMALL.replace("<", "&lt;") in body


def test_the_page_shows_charts_built_from_the_suppressed_figures(dataset, official, as_user):
    response = as_user(official).get(reverse("reports:index"), _query())
    stress = response.context["stress_figure"]
    # Officials' week: day 1 shown, day 2 hidden, the rest without answers.
    assert stress["data"][0]["y"] == [50.0, None, None, None, None, None, None]
    heatmap_text = {text for row in response.context["heatmap_figure"]["data"][0]["text"] for text in row}
    assert SMALL in heatmap_text


def test_the_rebuild_command_restores_deleted_rollups(dataset):
    from django.core.management import call_command

    before = _stored()
    ReportDay.objects.all().delete()
    output = io.StringIO()
    call_command("rebuild_report_rollups", stdout=output)
    assert "3 report days rebuilt." in output.getvalue()
    assert _stored() == before


def test_shelter_names_are_escaped_in_the_tables_and_the_picker(official, as_user):
    shelter = ShelterFactory(name="<script>alert(1)</script>避難所")
    for score in range(6):
        answer(shelter, DAY_1, k6=score)
    body = as_user(official).get(reverse("reports:index"), _query()).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;避難所" in body


def test_an_official_is_told_the_report_covers_whole_weeks_and_sees_them_in_the_form(dataset, official, hq, as_user):
    response = as_user(official).get(reverse("reports:index"), _query(start=DAY_2.isoformat()))
    assert response.status_code == 200
    assert response.context["form"].initial == {"start": DAY_1, "end": DAY_1 + dt.timedelta(days=6)}
    assert 'id="weeks-note"' in response.content.decode()
    response = as_user(hq).get(reverse("reports:index"), _query(start=DAY_2.isoformat()))
    assert response.context["report"].filters.start == DAY_2
    assert 'id="weeks-note"' not in response.content.decode()


def test_an_official_asking_only_for_the_running_week_is_refused_naming_the_end(official, as_user):
    today = timezone.localdate().isoformat()
    response = as_user(official).get(reverse("reports:index"), {"start": today, "end": today})
    assert response.status_code == 400
    assert "end" in response.context["form"].errors
    response = as_user(official).get(reverse("reports:csv", args=["daily"]), {"start": today, "end": today})
    assert response.status_code == 400
    assert b"end" in response.content


def test_officials_export_each_shelters_weeks_not_its_days(dataset, official, hq, as_user, shelter_a):
    rows = _csv(as_user(official).get(reverse("reports:csv", args=["shelter-days"]), _query()))
    assert rows[0][2] == "週の初日"
    assert [row[2:4] for row in rows[1:] if row[0] == str(shelter_a.pk)] == [[DAY_1.isoformat(), "7"]]
    rows = _csv(as_user(hq).get(reverse("reports:csv", args=["shelter-days"]), _query()))
    assert [row[2:4] for row in rows[1:] if row[0] == str(shelter_a.pk)] == [
        [DAY_1.isoformat(), "6"],
        [DAY_2.isoformat(), "1"],
    ]


def test_a_shelter_named_like_a_formula_is_exported_as_text(dataset, hq, as_user, shelter_b):
    shelter_b.name = '=HYPERLINK("http://x","y")'
    shelter_b.save(update_fields=["name"])

    rows = _csv(as_user(hq).get(reverse("reports:csv", args=["shelters"]), _query()))

    row = next(row for row in rows if row[0] == str(shelter_b.pk))
    assert row[1] == '\'=HYPERLINK("http://x","y")'
    assert row[2:] == ["2", "2", "50.0", "50.0", "11.5"]
