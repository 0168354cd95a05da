#!/usr/bin/env python
"""What the retention job costs, on PostgreSQL: finding who is due, and anonymising them in batches.

    flock /tmp/bench.flock .venv/bin/python bench/retention.py
        [--database-url postgres://postgres@127.0.0.1:5432/retention_bench] [--due 5000] [--kept 20000]
        [--batch 100] [--keep]

1. Creates a fresh database (its name must contain "bench"), migrates it.
2. Seeds --due people whose one stay ended two years ago and --kept people who are not due (a third
   still staying, a third who left last month, a third who stayed through a disaster closed last
   month), each with a survey-free history: stays, support needs with notes, a consent decision.
3. Times (one run each, they change the data):
   - `people_due_for_anonymisation` over the whole table (the job's question, unbatched);
   - `retention_anonymise_due` with --batch per transaction and no run limit: the whole backlog;
   - the same again, with nobody left due (what beat's hourly run costs on a quiet day).
"""

from __future__ import annotations

import argparse
import time

from benchdb import drop_database, recreate_database, setup_django


def seed(*, due: int, kept: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from consent.models import ConsentDecision, ConsentRecord
    from shelters.models import CheckIn, Disaster, Evacuee, Shelter, ShelterStatus, Stay, SupportCategory, SupportNeed

    now = timezone.now()
    shelter = Shelter.objects.create(code="BENCH-RETENTION", name="ベンチ避難所", status=ShelterStatus.OPEN)
    people = Evacuee.objects.bulk_create(
        (
            Evacuee(
                walk_in_id=f"W{index:09d}",
                name=f"ベンチ 太郎{index}",
                name_kana=f"ベンチ タロウ{index}",
                address="会津若松市（ベンチ）",
                phone=f"0242-00-{index % 10000:04d}",
            )
            for index in range(due + kept)
        ),
        batch_size=5000,
    )
    check_in = CheckIn.objects.create(shelter=shelter, performed_at=now)
    long_ago, last_month = now - timedelta(days=730), now - timedelta(days=30)
    Disaster.objects.create(name="bench", started_at=last_month - timedelta(days=20), closed_at=last_month)
    stays = []
    for index, person in enumerate(people):
        if index < due:
            start, end = long_ago - timedelta(days=10), long_ago
        elif index % 3 == 0:
            start, end = last_month, None
        elif index % 3 == 1:
            start, end = last_month - timedelta(days=5), last_month
        else:
            start, end = long_ago, last_month - timedelta(days=10)  # through the disaster
        stays.append(
            Stay(
                evacuee=person,
                shelter=shelter,
                check_in=check_in,
                checked_in_at=start,
                checked_out_at=end,
                destination="home" if end else "",
            )
        )
    Stay.objects.bulk_create(stays, batch_size=5000)
    category = SupportCategory.objects.order_by("id").first()
    SupportNeed.objects.bulk_create(
        (SupportNeed(evacuee=person, category=category, notes="ベンチの備考") for person in people[::4]),
        batch_size=5000,
    )
    record = ConsentRecord.objects.create(subject="bench", at=now, method="desk")
    ConsentDecision.objects.bulk_create(
        (
            ConsentDecision(
                subject=f"person:{person.pk}",
                category="basic",
                recipient="shelter_staff",
                context="disaster",
                decision="given",
                decided_at=now,
                record=record,
            )
            for person in people[::5]
        ),
        batch_size=5000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/retention_bench")
    parser.add_argument("--due", type=int, default=5000)
    parser.add_argument("--kept", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()

    recreate_database(options.database_url)
    try:
        setup_django(options.database_url)
        from django.conf import settings

        from shelters.models import Evacuee
        from shelters.services.retention import people_due_for_anonymisation, retention_anonymise_due

        seed(due=options.due, kept=options.kept)
        print(f"{options.due} people due, {options.kept} not due, RETENTION_DAYS={settings.RETENTION_DAYS}")

        started = time.perf_counter()
        found = people_due_for_anonymisation()
        print(f"people_due_for_anonymisation: {len(found)} in {(time.perf_counter() - started) * 1000:.0f} ms")
        assert len(found) == options.due, len(found)

        started = time.perf_counter()
        run = retention_anonymise_due(batch_size=options.batch, limit=options.due + options.kept)
        elapsed = time.perf_counter() - started
        print(
            f"retention_anonymise_due: {run.anonymised} people in {run.batches} batches of {options.batch}, "
            f"{elapsed:.1f} s ({elapsed / max(run.anonymised, 1) * 1000:.2f} ms per person)"
        )
        assert Evacuee.objects.filter(anonymised_at__isnull=False).count() == options.due

        # The reference, in the same run: the bare writes of the same fields for as many people (the
        # people not due, so the job's rows are untouched), batch by batch, one transaction each.
        from django.db import connection, transaction

        others = list(
            Evacuee.objects.filter(anonymised_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[: run.anonymised]
        )
        started = time.perf_counter()
        for first in range(0, len(others), options.batch):
            ids = others[first : first + options.batch]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT id FROM shelters_evacuee WHERE id = ANY(%s) FOR UPDATE", [ids])
                cursor.execute(
                    "UPDATE shelters_evacuee SET name = '', name_kana = '', address = '', phone = '', "
                    "birth_date = NULL, city_os_id = NULL, household_id = NULL WHERE id = ANY(%s)",
                    [ids],
                )
                cursor.execute("UPDATE shelters_supportneed SET notes = '' WHERE evacuee_id = ANY(%s)", [ids])
        reference = time.perf_counter() - started
        print(
            f"reference, the bare UPDATEs of the same fields for {len(others)} people in batches of "
            f"{options.batch}: {reference:.2f} s ({reference / max(len(others), 1) * 1000:.2f} ms per person); "
            f"the job is {elapsed / max(reference, 1e-9):.0f}x that"
        )

        started = time.perf_counter()
        quiet = retention_anonymise_due(batch_size=options.batch)
        print(f"a run with nobody due: {quiet.anonymised} people, {(time.perf_counter() - started) * 1000:.0f} ms")
    finally:
        if not options.keep:
            from django.db import connections

            connections.close_all()
            drop_database(options.database_url)


if __name__ == "__main__":
    main()
