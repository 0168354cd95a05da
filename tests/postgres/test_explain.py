"""The hot queries' plans on realistically sized tables (PostgreSQL only): no sequential scan of the
tables that grow with the city's people, whatever the planner thinks of a small test table.

A month into a disaster: 300 shelters, 40,000 stays (30,000 people inside, the others gone) spread
over 30 days, one person in two with a support need (a table as big as the stays, as it is for
a city with several needs per person), statistics fresh (ANALYZE). Each hot path is
run once with its queries captured, and each query is EXPLAINed as PostgreSQL would run it."""

import json
import os
import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import selectors
from realtime import streams
from shelters.models import Evacuee, Role, Shelter, ShelterStatus, Stay, StayMode, SupportCategory, SupportNeed
from tests.factories import UserFactory

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="plans are PostgreSQL's: DATABASE_URL is not PostgreSQL"),
    pytest.mark.django_db,
]

# The tables whose size is the city's people (or more): never read whole on a hot path.
BIG = {"shelters_stay", "shelters_evacuee", "shelters_supportneed"}
SHELTERS, INSIDE, GONE, DAYS = 300, 30_000, 10_000, 30


@pytest.fixture
def city():
    """The month-old city, loaded in bulk (a test seed, not the write path), then ANALYZEd."""
    generator = random.Random(12)
    now = timezone.now()
    shelters = Shelter.objects.bulk_create(
        Shelter(code=f"PLAN{n:04d}", name=f"計画避難所{n}", capacity=1000, status=ShelterStatus.OPEN)
        for n in range(SHELTERS)
    )
    people = Evacuee.objects.bulk_create(
        (
            Evacuee(walk_in_id=f"WPLAN{n:06d}", name=f"会津 太郎{n}", name_kana=f"アイヅ タロウ{n}")
            for n in range(INSIDE + GONE)
        ),
        batch_size=5000,
    )
    stays = []
    for index, person in enumerate(people):
        came = now - timedelta(seconds=generator.uniform(0, DAYS * 86400))
        left = came + (now - came) * generator.random() if index >= INSIDE else None
        stays.append(
            Stay(
                evacuee=person,
                shelter=shelters[index % SHELTERS],
                mode=StayMode.INSIDE,
                checked_in_at=came,
                checked_out_at=left,
                destination="home" if left else "",
            )
        )
    Stay.objects.bulk_create(stays, batch_size=5000)
    category = SupportCategory.objects.order_by("id").first() or SupportCategory.objects.create(
        code="plan", name="計画"
    )
    SupportNeed.objects.bulk_create(SupportNeed(evacuee=person, category=category) for person in people[::2])
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE shelters_shelter s SET occupancy = c.n FROM (
                   SELECT shelter_id, count(*) AS n FROM shelters_stay WHERE checked_out_at IS NULL GROUP BY shelter_id
               ) c WHERE c.shelter_id = s.id"""
        )
        for table in sorted(BIG | {"shelters_shelter"}):
            cursor.execute(f"ANALYZE {table}")
    return shelters


def plans(run) -> list[tuple[str, dict]]:
    """(SQL, plan) of every query `run` makes."""
    with CaptureQueriesContext(connection) as captured:
        run()
    found = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            found.append((sql, plan[0]["Plan"] if isinstance(plan, list) else json.loads(plan)[0]["Plan"]))
    return found


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def sequential_scans_of_big_tables(run) -> list[str]:
    return [
        f"{node['Relation Name']} in: {sql}"
        for sql, plan in plans(run)
        for node in nodes(plan)
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG
    ]


def test_the_48_hour_history_reads_the_windows_stays_through_the_indexes(city):
    assert sequential_scans_of_big_tables(lambda: selectors.occupancy_history(hours=48)) == []
    assert sequential_scans_of_big_tables(lambda: selectors.occupancy_history(shelter_ids=[city[0].pk], hours=48)) == []


def test_the_history_uses_the_index_on_each_time(city):
    used = {
        node.get("Index Name")
        for _, plan in plans(lambda: selectors.occupancy_history(hours=48))
        for node in nodes(plan)
    }
    assert {"stay_checked_in_at", "stay_checked_out_at"} <= used


def test_a_managers_half_of_a_shelters_snapshot_reads_only_that_shelters_stays(city):
    """The names needing support, follow-ups: per user, through the shelter's index."""
    manager = UserFactory(role=Role.MANAGER, shelters=[city[0]])
    kind = streams.stream_kind("shelter")
    assert sequential_scans_of_big_tables(lambda: kind.personal_data(manager, city[0].pk)) == []


def test_a_shelters_figures_read_no_stay(city):
    """Its counters (Shelter.support_counts and support_people), not its stays."""
    assert sequential_scans_of_big_tables(lambda: streams.stream_kind("shelter").shared_data(city[0].pk)) == []


def test_the_city_snapshot_reads_no_stay(city):
    """Every shelter's counters: 3,050 rows at city scale, never the 573,000 stays."""
    assert sequential_scans_of_big_tables(lambda: streams.stream_kind("city").shared_data(None)) == []
