"""The differencing attack on the officials' reports: many selections, one linear system, nothing recovered.

An official asks for reports over random shelter sets and date ranges (all the report page and its
CSVs let them choose), reads every figure of the per-shelter, per-day, shelter-by-day and needs
tables, and writes each shown figure as an equation over the unknown per-shelter, per-day counts.
Solved with exact arithmetic, the equations must not determine any figure that was hidden ("<5"
or "x") in some report, nor any per-shelter, per-day count of 1 to 4.
"""

import csv
import datetime as dt
import io
import random
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from surveys.models import ReportDay
from surveys.reports.build import rollup_rows
from surveys.suppression import HIDDEN, SMALL
from tests.factories import ShelterFactory
from tests.surveys.linear import RowSpace

pytestmark = pytest.mark.django_db

NEEDS = ("water", "diapers")
SHELTERS = 7
DAYS = 21  # three whole weeks, ended before today
SELECTIONS = 80
TOKYO = dt.timezone(dt.timedelta(hours=9))


def _first_monday() -> dt.date:
    today = timezone.localdate()
    last_sunday = today - dt.timedelta(days=today.weekday() + 1)
    return last_sunday - dt.timedelta(days=DAYS - 1)


@pytest.fixture
def small_cells():
    """Seven shelters over three past weeks, with many per-day counts of 1 to 4 and a few quiet shelters.

    Returns ({(shelter, day): responses}, {(need, shelter, day): respondents asking}).
    """
    generator = random.Random(10)
    shelters = [ShelterFactory() for _index in range(SHELTERS)]
    start = _first_monday()
    responses, needs, answers = {}, {}, []
    for index, shelter in enumerate(shelters):
        # Two shelters get so few answers that even their weekly totals are small.
        choices = [0, 0, 0, 1] if index < 2 else [0, 1, 2, 3, 4, 5, 6, 9]
        for offset in range(DAYS):
            day = start + dt.timedelta(days=offset)
            count = generator.choice(choices)
            responses[(shelter.pk, day)] = count
            for answer_index in range(count):
                asked = [need for need in NEEDS if generator.random() < 0.5]
                for need in NEEDS:
                    key = (need, shelter.pk, day)
                    needs[key] = needs.get(key, 0) + (need in asked)
                at = dt.datetime.combine(day, dt.time(9 + answer_index % 12), tzinfo=TOKYO)
                answers.append((shelter.pk, at, {"needs": asked, "issue_toilets": answer_index % 5}, answer_index % 25))
    ReportDay.objects.bulk_create(rollup_rows(answers))
    return responses, needs


def _csv(response) -> tuple[dt.date, dt.date, list[list[str]]]:
    assert response.status_code == 200, response.content[:300]
    start, end = re.search(r"-(\d{8})-(\d{8})\.csv", response["Content-Disposition"]).groups()
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return dt.datetime.strptime(start, "%Y%m%d").date(), dt.datetime.strptime(end, "%Y%m%d").date(), rows


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]


def _value(text: str):
    """A shown figure as a number, or None for a hidden one ("<5", "x")."""
    if text in (SMALL, HIDDEN):
        return None
    return int(text)


def _selection(generator, shelter_ids, first_day, previous):
    """A random selection; half the time the previous one with one shelter more or less, or its
    range one day longer or shorter at either end (the pairs that differencing needs)."""
    if previous and generator.random() < 0.5:
        chosen, start, end = previous
        move = generator.choice(["shelter", "start", "end"])
        if move == "shelter":
            chosen = sorted(set(chosen) ^ {generator.choice(shelter_ids)})
        elif move == "start":
            start += dt.timedelta(days=generator.choice([-1, 1]))
        else:
            end += dt.timedelta(days=generator.choice([-1, 1]))
        return chosen, min(start, end), max(start, end)
    chosen = [pk for pk in shelter_ids if generator.random() < 0.4] if generator.random() < 0.8 else []
    start = first_day + dt.timedelta(days=generator.randint(-3, DAYS - 1))
    end = start + dt.timedelta(days=generator.randint(0, 16))
    return chosen, start, end


def _figures(client, chosen, start, end, shelter_ids):
    """Every count the official is shown, as ({unknown: coefficient}, value or None), per measure."""
    query = {"start": start.isoformat(), "end": end.isoformat(), "shelter": chosen}
    selected = chosen or shelter_ids
    figures = []

    def cells(shelters, days, measure="responses"):
        return {(measure, pk, day): 1 for pk in shelters for day in days}

    response = client.get(reverse("reports:csv", args=["shelters"]), query)
    if response.status_code == 400:  # a selection the page refuses (only the running week) shows nothing
        return None
    start, end, rows = _csv(response)
    days = _days(start, end)
    for row in rows[1:]:
        shelters = [int(row[0])] if row[0] else selected  # the last row is the selection's total
        figures.append((cells(shelters, days), _value(row[2])))
    _start, _end, rows = _csv(client.get(reverse("reports:csv", args=["daily"]), query))
    for row in rows[1:]:
        figures.append((cells(selected, [dt.date.fromisoformat(row[0])]), _value(row[1])))
    _start, _end, rows = _csv(client.get(reverse("reports:csv", args=["shelter-days"]), query))
    span = 7 if rows[0][2] == gettext("Week from") else 1  # officials get each shelter's weeks
    for row in rows[1:]:
        first = dt.date.fromisoformat(row[2])
        figures.append((cells([int(row[0])], _days(first, first + dt.timedelta(days=span - 1))), _value(row[3])))
    _start, _end, rows = _csv(client.get(reverse("reports:csv", args=["needs"]), query))
    for row in rows[1:]:
        if row[0] in NEEDS:
            figures.append((cells(selected, days, measure=row[0]), _value(row[2])))
    return figures


def test_no_hidden_figure_can_be_recovered_from_many_reports(small_cells, official, as_user):
    responses, needs = small_cells
    client = as_user(official)
    shelter_ids = sorted({pk for pk, _day in responses})
    first_day = _first_monday()
    generator = random.Random(7)
    space, hidden, requests, refused, selection = RowSpace(), [], 0, 0, None
    for _attempt in range(SELECTIONS):
        selection = _selection(generator, shelter_ids, first_day, selection)
        with translation.override("ja"):
            figures = _figures(client, *selection, shelter_ids)
        if figures is None:
            requests, refused = requests + 1, refused + 1
            continue
        requests += 4
        for coefficients, value in figures:
            if value is None:
                hidden.append(coefficients)
            else:
                space.add(coefficients)
    # Every small per-shelter, per-day count is a target too, shown or not.
    small = [{("responses", pk, day): 1} for (pk, day), count in responses.items() if 0 < count < 5]
    small += [{(need, pk, day): 1} for (need, pk, day), count in needs.items() if 0 < count < 5]
    assert len(hidden) > 50 and len(small) > 50, "the sample data must have many small cells"

    recovered = [figure for figure in hidden + small if space.determines(figure)]
    recovered_small = [figure for figure in small if space.determines(figure)]
    print(
        f"{requests} requests over {SELECTIONS} selections ({refused} refused); {len(hidden)} hidden figures and {len(small)} small cells "
        f"targeted; recovered: {len(recovered)} ({len(recovered_small)} small cells)"
    )
    assert recovered == [], f"{len(recovered)} hidden figures recovered, e.g. {recovered[:3]}"
