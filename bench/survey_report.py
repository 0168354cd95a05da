#!/usr/bin/env python
"""The officials' survey report over 3,000 shelters, 30 days and 200,000 responses, on PostgreSQL.

    flock /tmp/bench.flock .venv/bin/python bench/survey_report.py
        [--database-url postgres://postgres@127.0.0.1:5432/survey_report_bench]
        [--shelters 3000] [--days 30] [--responses 200000] [--runs 7] [--keep]

1. Creates a fresh database (its name must contain "bench"; dropped at the end unless --keep),
   migrates it with manage.py.
2. Seeds it as a benchmark, not through the write path: shelters with bulk_create, responses with
   COPY (realistic answers: K6 items, living issues 0–4, needs with quantities, a skewed spread
   over shelters and days), and the ReportDay rollups computed from the same tuples by
   `surveys.reports.build.rollup_rows`, the function whose merge `response_submit` uses, then COPY.
3. Times, in one process with DEBUG off, over --runs runs each (median and max):
   - the selector the page uses (`report_build`, all shelters, 30 days, suppressed as for an
     official): every figure, suppression included;
   - the whole page through Django's test client as an official (selector, Plotly figures,
     template), the print page, and the largest CSV (shelter × day);
   - the reference: `SELECT count(*), avg(k6_score) ... GROUP BY shelter, day` over the raw
     responses, and the ratio of each figure to it;
   - the alternative not taken: the heatmap computed from the raw responses' JSON;
   - the write-side price: response_submit with its rollup upsert, and the upsert alone.
4. Prints where the page's time goes (SQL, suppression, figures, template) and appends the
   results as a JSON line to bench/results/survey_report.jsonl (gitignored).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from benchdb import drop_database, recreate_database

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
TOKYO = dt.timezone(dt.timedelta(hours=9))
FIRST_DAY = dt.date(2026, 10, 1)
K6_VALUES = ["never", "a_little", "sometimes", "mostly", "always"]


# --- Database -----------------------------------------------------------------------------------


def django_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DEBUG": "0",
        "DB_POOL": "0",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    }


# --- Seed ---------------------------------------------------------------------------------------


def k6_answers(generator: random.Random, distress: float) -> dict:
    """Six K6 answers; `distress` (0..1) shifts them towards いつも. One in twenty leaves one out."""
    answers = {}
    for item in range(1, 7):
        level = min(4, max(0, round(generator.gauss(distress * 4, 1.0))))
        answers[f"k6_{item}"] = K6_VALUES[level]
    if generator.random() < 0.05:
        del answers[f"k6_{generator.randint(1, 6)}"]
    return answers


def realistic_answers(generator: random.Random, *, shelter_bias: float, issues: list[str], needs: list[tuple]):
    """(answers, k6_score) as `submission_clean` would store them."""
    answers = k6_answers(generator, min(1.0, max(0.0, generator.betavariate(2, 5) + shelter_bias)))
    scores = {value: score for score, value in enumerate(K6_VALUES)}
    k6_score = sum(scores[answers[f"k6_{i}"]] for i in range(1, 7)) if len(answers) == 6 else None
    for issue in issues:
        if generator.random() < 0.9:
            answers[f"issue_{issue}"] = min(4, max(0, round(generator.gauss(1.5 + 2 * shelter_bias, 1.2))))
    asked = [need for need in needs if generator.random() < need[2]]
    if asked:
        answers["needs"] = [code for code, _with_quantity, _rate in asked]
        for code, with_quantity, _rate in asked:
            if with_quantity:
                answers[f"needs_{code}_quantity"] = generator.randint(1, 6)
    if generator.random() < 0.1:
        answers["comment"] = "夜が寒いです"
    return answers, k6_score


def seed(*, shelters: int, days: int, responses: int, url: str) -> dict:
    from shelters.models import DataSource, Role, Shelter, ShelterStatus, User
    from surveys import builtin
    from surveys.models import ResponseChannel, SurveyVersion
    from surveys.reports.build import rollup_rows

    generator = random.Random(2026)
    started = time.perf_counter()
    Shelter.objects.bulk_create(
        [
            Shelter(
                code=f"BENCH{index:05d}",
                name=f"ベンチ避難所{index:04d}",
                name_en=f"Bench shelter {index}",
                capacity=generator.choice([50, 100, 200, 400]),
                status=ShelterStatus.OPEN,
                latitude=37.4 + generator.random() / 5,
                longitude=139.8 + generator.random() / 5,
                source=DataSource.SAMPLE,
            )
            for index in range(shelters)
        ],
        batch_size=1000,
    )
    shelter_ids = list(Shelter.objects.order_by("pk").values_list("pk", flat=True))
    # A few large shelters get most answers, as in a real disaster; a day's activity rises then falls.
    weights = [generator.lognormvariate(0, 1.0) for _ in shelter_ids]
    biases = {pk: generator.uniform(-0.15, 0.25) for pk in shelter_ids}
    day_weights = [1 + 2 * (day / days) * (1 - day / days) * 4 for day in range(days)]
    version = SurveyVersion.objects.get(survey__code=builtin.SURVEY_CODE, is_current=True)
    issues = [code for code, _label, _label_en in builtin.LIVING_ISSUES]
    needs = [
        (code, with_quantity, rate)
        for (code, _label, _label_en, with_quantity), rate in zip(
            builtin.NEEDS, [0.3, 0.25, 0.03, 0.05, 0.12, 0.15, 0.2, 0.1, 0.08, 0.1, 0.12, 0.03], strict=True
        )
    ]
    chosen_shelters = generator.choices(shelter_ids, weights=weights, k=responses)
    chosen_days = generator.choices(range(days), weights=day_weights, k=responses)
    now = dt.datetime.now(dt.UTC)
    tuples = []
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY surveys_response (version_id, shelter_id, channel, submission_key, answered_at, received_at,"
            " answers, k6_score, source) FROM STDIN"
        ) as copy:
            for index in range(responses):
                shelter_id = chosen_shelters[index]
                answered_at = dt.datetime.combine(
                    FIRST_DAY + dt.timedelta(days=chosen_days[index]),
                    dt.time(generator.randint(7, 21), generator.randint(0, 59)),
                    tzinfo=TOKYO,
                )
                answers, k6_score = realistic_answers(
                    generator, shelter_bias=biases[shelter_id], issues=issues, needs=needs
                )
                channel = ResponseChannel.PHONE if generator.random() < 0.7 else ResponseChannel.PROXY
                copy.write_row(
                    (
                        version.pk,
                        shelter_id,
                        channel,
                        f"bench-{index}",
                        answered_at,
                        now,
                        json.dumps(answers, ensure_ascii=False),
                        k6_score,
                        DataSource.SAMPLE,
                    )
                )
                tuples.append((shelter_id, answered_at, answers, k6_score))
        # The rollups, from the same tuples through the same merge as response_submit.
        rows = rollup_rows(tuples)
        with cursor.copy(
            "COPY surveys_reportday (shelter_id, day, responses, k6_responses, k6_sum, k6_10_or_more,"
            " k6_13_or_more, issues, needs) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(
                    (
                        row.shelter_id,
                        row.day,
                        row.responses,
                        row.k6_responses,
                        row.k6_sum,
                        row.k6_10_or_more,
                        row.k6_13_or_more,
                        json.dumps(row.issues),
                        json.dumps(row.needs),
                    )
                )
        connection.commit()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE surveys_response")
        connection.execute("VACUUM ANALYZE surveys_reportday")
        connection.execute("VACUUM ANALYZE shelters_shelter")
    User.objects.create_user(username="bench-official", password="bench-pass", role=Role.OFFICIAL)
    User.objects.create_user(username="bench-hq", password="bench-pass", role=Role.HQ)
    return {"seconds": round(time.perf_counter() - started, 1), "report_days": len(rows)}


# --- Timing -------------------------------------------------------------------------------------


def timed(function, runs: int) -> dict:
    function()  # warm: caches, first template compile
    seconds = []
    for _run in range(runs):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return {"median_ms": round(1000 * statistics.median(seconds), 1), "max_ms": round(1000 * max(seconds), 1)}


class SqlTimer:
    """Time spent in the database, through Django's execute wrapper."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/survey_report_bench")
    parser.add_argument("--shelters", type=int, default=3000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--writes", type=int, default=300, help="response_submit calls for the write-side price")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="time a database kept by an earlier --keep run")
    parser.add_argument("--seed-only", action="store_true", help="seed and keep the database, time nothing")
    args = parser.parse_args()
    args.keep = args.keep or args.seed_only

    if not args.reuse:
        recreate_database(args.database_url)
    env = django_env(args.database_url)
    try:
        if not args.reuse:
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
                cwd=BASE_DIR,
                env=env,
                check=True,
            )
        os.environ.update(env)
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()
        results = run(args)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with open(RESULTS_DIR / "survey_report.jsonl", "a") as file:
        file.write(json.dumps(results, ensure_ascii=False) + "\n")


def run(args) -> dict:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from shelters.models import User
    from surveys.reports import figures as report_figures
    from surveys.reports.build import ReportFilter, report_build
    from surveys.reports.views import issue_labels, needs_labels

    if args.reuse:
        seeded = {"reused": True}
    else:
        print(f"seeding {args.shelters} shelters, {args.days} days, {args.responses} responses …", flush=True)
        seeded = seed(shelters=args.shelters, days=args.days, responses=args.responses, url=args.database_url)
        print(f"  seeded in {seeded['seconds']} s; {seeded['report_days']} ReportDay rows", flush=True)
        if args.seed_only:
            return {"seed": seeded}

    last_day = FIRST_DAY + dt.timedelta(days=args.days - 1)
    filters = ReportFilter(start=FIRST_DAY, end=last_day)
    query = {"start": FIRST_DAY.isoformat(), "end": last_day.isoformat()}
    official = User.objects.get(username="bench-official")
    client = Client()
    client.force_login(official)

    def selector():
        return report_build(filters=filters, visible_shelter_ids=None, suppressed=True)

    def page():
        response = client.get(reverse("reports:index"), query)
        assert response.status_code == 200, response.status_code
        return response

    def print_page():
        assert client.get(reverse("reports:print"), query).status_code == 200

    def csv_export():
        assert client.get(reverse("reports:csv", args=["shelter-days"]), query).status_code == 200

    start = dt.datetime.combine(FIRST_DAY, dt.time(), tzinfo=TOKYO)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=TOKYO)

    def reference():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT shelter_id, (answered_at AT TIME ZONE 'Asia/Tokyo')::date AS day, count(*), avg(k6_score)"
                " FROM surveys_response WHERE answered_at >= %s AND answered_at < %s GROUP BY 1, 2",
                [start, end],
            )
            return cursor.fetchall()

    issues = [code for code, _label, _label_en in __import__("surveys.builtin").builtin.LIVING_ISSUES]

    def heatmap_from_raw():
        columns = ", ".join(f"count(answers->'issue_{code}'), avg((answers->>'issue_{code}')::int)" for code in issues)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT shelter_id, {columns} FROM surveys_response"
                " WHERE answered_at >= %s AND answered_at < %s GROUP BY shelter_id",
                [start, end],
            )
            return cursor.fetchall()

    figures = {}
    print(f"timing, {args.runs} runs each …", flush=True)
    figures["reference_raw_group_by_ms"] = timed(reference, args.runs)
    figures["selector_ms"] = timed(selector, args.runs)
    figures["page_ms"] = timed(page, args.runs)
    figures["print_page_ms"] = timed(print_page, args.runs)
    figures["csv_shelter_days_ms"] = timed(csv_export, args.runs)
    figures["heatmap_from_raw_json_ms"] = timed(heatmap_from_raw, args.runs)
    figures["reference_again_ms"] = timed(reference, args.runs)
    reference_ms = statistics.median(
        [figures["reference_raw_group_by_ms"]["median_ms"], figures["reference_again_ms"]["median_ms"]]
    )
    ratios = {
        name: round(value["median_ms"] / reference_ms, 2)
        for name, value in figures.items()
        if not name.startswith("reference")
    }

    # Where the page's time goes: SQL, suppression, the figures, the rest (template, middleware).
    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        report = selector()
        selector_seconds = time.perf_counter() - started
    started = time.perf_counter()
    report_figures.stress_over_time(report)
    report_figures.needs_ranking(report, needs_labels())
    report_figures.living_issues_heatmap(report, issue_labels())
    figures_seconds = time.perf_counter() - started
    profile = cProfile.Profile()
    profile.enable()
    response = page()
    profile.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(25)  # the functions whose own code costs most
    breakdown = {
        "selector_sql_ms": round(1000 * timer.seconds, 1),
        "selector_queries": timer.queries,
        "selector_python_ms": round(1000 * (selector_seconds - timer.seconds), 1),
        "figures_ms": round(1000 * figures_seconds, 1),
        "page_bytes": len(response.content),
        "shelters_in_report": len(report.shelters),
        "shelter_day_cells": len(report.shelter_days),
        "hidden_small": sum(1 for *_rest, cell in report.shelter_days if cell.responses == "<5"),
        "hidden_complementary": sum(1 for *_rest, cell in report.shelter_days if cell.responses == "x"),
    }
    suppression_started = time.perf_counter()
    report_build(filters=filters, visible_shelter_ids=None, suppressed=False)
    breakdown["selector_unsuppressed_ms"] = round(1000 * (time.perf_counter() - suppression_started), 1)

    # Writes change the data: leave a reused database as it was seeded.
    writes = write_price(args.writes) if not args.keep else {"skipped": "--keep"}
    results = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "shelters": args.shelters,
        "days": args.days,
        "responses": args.responses,
        "seed": seeded,
        "figures": figures,
        "ratio_to_reference": ratios,
        "breakdown": breakdown,
        "writes": writes,
    }
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print("\nprofile of one page request (cumulative):")
    print("\n".join(stream.getvalue().splitlines()[:100]))
    return results


def write_price(count: int) -> dict:
    """What keeping the rollups costs a submission: response_submit, and the rollup upsert alone."""
    from django.db import connection

    from shelters.models import Shelter
    from surveys import services
    from surveys.models import ResponseChannel, SurveyVersion
    from surveys.reports import build as reports

    generator = random.Random(7)
    version = SurveyVersion.objects.get(survey__code="evacuation-life", is_current=True)
    shelters = list(Shelter.objects.order_by("?")[:50])
    issues = [f"issue_{code}" for code in ("toilets", "sleeping", "privacy", "food")]
    upsert_seconds = []
    original = reports.rollup_add

    def timed_rollup_add(**kwargs):
        started = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            upsert_seconds.append(time.perf_counter() - started)

    reports.rollup_add = timed_rollup_add
    totals = []
    try:
        for index in range(count):
            answers = k6_answers(generator, generator.random() / 2)
            answers.update({issue: generator.randint(0, 4) for issue in issues})
            answers.update({"needs": ["water"], "needs_water_quantity": 2})
            started = time.perf_counter()
            services.response_submit(
                version=version,
                shelter=shelters[index % len(shelters)],
                raw_answers=answers,
                channel=ResponseChannel.PROXY,
                submission_key=f"bench-write-{index}",
            )
            totals.append(time.perf_counter() - started)
    finally:
        reports.rollup_add = original
    connection.close()
    return {
        "submits": count,
        "submit_median_ms": round(1000 * statistics.median(totals), 2),
        "rollup_upsert_median_ms": round(1000 * statistics.median(upsert_seconds), 2),
        "rollup_share_of_submit": round(statistics.median(upsert_seconds) / statistics.median(totals), 2),
    }


if __name__ == "__main__":
    main()
