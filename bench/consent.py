#!/usr/bin/env python
"""What consent costs a list of people: a shelter's residents as its manager sees them, on PostgreSQL.

    flock /tmp/bench.flock .venv/bin/python bench/consent.py
        [--database-url postgres://postgres@127.0.0.1:5432/consent_bench] [--residents 1000]
        [--ledger 200000] [--runs 9] [--keep]

1. Creates a fresh database (its name must contain "bench"), migrates it.
2. Seeds one open shelter with --residents people checked in (half with support needs), an open
   disaster, two active legal-basis releases (one scoped to shelters), and a consent ledger of
   --ledger decisions over many more subjects than are in the shelter (the city's residents who set
   their choices on their page or at the City OS), a third of the shelter's people among them.
3. Times over --runs runs (median, max), in one process:
   - `access.people.shelter_residents` as the manager: the list with consent decided for every person,
     masked, and every read recorded with its basis (what the residents page and API call);
   - the reference, measured in the same run: the same rows read the way the list read them before
     consent (the same queryset, the reads recorded in one INSERT, no decisions);
   - the price per person shown, and the queries each path takes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from benchdb import drop_database, recreate_database, setup_django


def seed(*, residents: int, ledger: int) -> dict:
    from django.utils import timezone

    from consent.models import ConsentDecision, ConsentRecord, LegalRelease, subject_of
    from consent.rules import Category, Context, Decision, Recipient
    from shelters.models import (
        CheckIn,
        DataSource,
        Disaster,
        Evacuee,
        Role,
        Shelter,
        ShelterStatus,
        Stay,
        SupportCategory,
        SupportNeed,
        User,
    )

    generator = random.Random(2026)
    now = timezone.now()
    shelter = Shelter.objects.create(
        code="BENCH-CONSENT", name="ベンチ避難所", status=ShelterStatus.OPEN, source=DataSource.SAMPLE
    )
    manager = User.objects.create(username="bench-manager", role=Role.MANAGER)
    manager.managed_shelters.add(shelter)
    hq = User.objects.create(username="bench-hq", role=Role.HQ)
    disaster = Disaster.objects.create(name="bench", started_at=now)
    people = Evacuee.objects.bulk_create(
        Evacuee(
            city_os_id=f"AZW{index:08d}" if index % 2 else None,
            walk_in_id=f"W{index:08d}",
            name=f"ベンチ 太郎{index}",
            name_kana=f"ベンチ タロウ{index}",
            requires_evacuation_support=index % 7 == 0,
            source=DataSource.SAMPLE,
        )
        for index in range(residents)
    )
    check_in = CheckIn.objects.create(shelter=shelter, performed_by=manager, performed_at=now)
    Stay.objects.bulk_create(
        Stay(evacuee=person, shelter=shelter, check_in=check_in, checked_in_at=now, source=DataSource.SAMPLE)
        for person in people
    )
    category = SupportCategory.objects.order_by("id").first()
    SupportNeed.objects.bulk_create(SupportNeed(evacuee=person, category=category) for person in people[::2])
    record = ConsentRecord.objects.create(subject="bench", at=now, method="resident_page")
    cells = [(c, r, x) for c in Category.values for r in Recipient.values for x in Context.values]
    shelter_subjects = [subject_of(person) for person in people[::3]]
    other_subjects = [f"cityos:CITY{index:08d}" for index in range(ledger // 10)]
    rows, seen = [], set()
    for subject in shelter_subjects + other_subjects:
        for category_, recipient, context in generator.sample(cells, 10):
            if (subject, category_, recipient, context) in seen or len(rows) >= ledger:
                continue
            seen.add((subject, category_, recipient, context))
            rows.append(
                ConsentDecision(
                    subject=subject,
                    category=category_,
                    recipient=recipient,
                    context=context,
                    decision=generator.choice(Decision.values),
                    decided_at=now,
                    record=record,
                )
            )
    ConsentDecision.objects.bulk_create(rows, batch_size=5000)
    for scoped in (False, True):
        release = LegalRelease.objects.create(
            disaster=disaster,
            rule="roster_disaster_release",
            article="災害対策基本法 第49条の11第3項",
            categories=["basic", "contact", "support"],
            recipients=["shelter_staff", "supporters"],
            scope="roster",
            reason="bench",
            declared_by=hq,
            declared_at=now,
            expires_at=now + timezone.timedelta(hours=24),
        )
        if scoped:
            release.shelters.add(shelter)
    return {"shelter": shelter, "manager": manager, "decisions": len(rows)}


def timed(callable_, runs: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            callable_()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/consent_bench")
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--ledger", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    recreate_database(args.database_url)
    try:
        setup_django(args.database_url)
        started = time.perf_counter()
        seeded = seed(residents=args.residents, ledger=args.ledger)
        print(
            f"seeded {args.residents} residents, {seeded['decisions']:,} consent decisions "
            f"in {time.perf_counter() - started:.1f} s"
        )
        from django.db import connection
        from django.utils import timezone

        from access import people
        from access.models import PersonalDataAccess
        from shelters.models import SupportNeed

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        shelter, manager = seeded["shelter"], seeded["manager"]
        manager = type(manager).objects.get(pk=manager.pk)

        def with_consent():
            return people.shelter_residents(user=manager, shelter=shelter, purpose="bench.residents")

        def reference():
            from django.db.models import Prefetch

            stays = list(
                shelter.stays.filter(checked_out_at__isnull=True)
                .select_related("evacuee", "evacuee__household")
                .prefetch_related(
                    Prefetch("evacuee__support_needs", queryset=SupportNeed.objects.select_related("category"))
                )
                .order_by("evacuee__household_id", "evacuee__name_kana", "id")
            )
            # The record of reads as it was written before consent: one row per person, one INSERT.
            now = timezone.now()
            PersonalDataAccess.objects.bulk_create(
                PersonalDataAccess(viewer=manager, evacuee_id=s.evacuee_id, purpose="bench.residents", at=now)
                for s in stays
            )
            return stays

        withheld = sum(1 for stay in with_consent() if stay.evacuee.withheld)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(with_consent)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        results = {}
        # Interleaved, so both see the same machine.
        for name, callable_ in (("reference", reference), ("consent", with_consent)) * 2:
            results.setdefault(name, []).append(timed(callable_, args.runs))
        ref = min(results["reference"], key=lambda r: r[0])
        got = min(results["consent"], key=lambda r: r[0])
        print(f"residents list, {args.residents} people, {withheld} with something withheld:")
        print(
            f"  reference (same rows, reads recorded, no consent): median {ref[0]:.1f} ms, max {ref[1]:.1f} ms, {ref[2]} queries"
        )
        print(
            f"  with consent decided, masked, recorded with basis: median {got[0]:.1f} ms, max {got[1]:.1f} ms, {got[2]} queries"
        )
        print(
            f"  ratio {got[0] / ref[0]:.2f}x; consent costs {(got[0] - ref[0]) * 1000 / args.residents:.1f} µs per person shown"
        )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url)


if __name__ == "__main__":
    main()
