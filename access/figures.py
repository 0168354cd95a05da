"""Counts over the tables of personal data, never a row: figures anyone who sees the shelter may see.

They live here so that the rule stays simple: outside `access`, nothing but the services (which
write) queries people, stays, follow-ups, survey answers or supply requests. Nothing here returns
a person, so nothing here is logged; suppression of small cells is the caller's business
(surveys/suppression.py).
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import Count, DateTimeField, F, Func, IntegerField, Q, Sum, Value

from consent.models import people_of_subjects
from shelters.models import Shelter, Stay, StayMode, SupportNeed
from supply.models import Request, RequestOrigin, RequestStatus
from surveys import scoring
from surveys.models import FollowUp, FollowUpState, Response


def occupancy_by_shelter(*, shelter_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(inside, outside) among open stays per shelter: what the counters should say (a recount)."""
    rows = (
        Stay.objects.filter(checked_out_at__isnull=True, shelter_id__in=list(shelter_ids))
        .values("shelter_id")
        .annotate(
            inside=Count("pk", filter=Q(mode=StayMode.INSIDE)), outside=Count("pk", filter=~Q(mode=StayMode.INSIDE))
        )
    )
    return {row["shelter_id"]: (row["inside"], row["outside"]) for row in rows}


def support_counts_by_shelter(*, shelter_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """要配慮 counts per shelter and category among open stays, counted over the people: for a
    recount and the tests; pages and events read the shelters' counters."""
    rows = (
        SupportNeed.objects.filter(
            evacuee__stays__checked_out_at__isnull=True, evacuee__stays__shelter_id__in=list(shelter_ids)
        )
        .values("evacuee__stays__shelter_id", "category__code")
        .annotate(people=Count("evacuee", distinct=True))
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["evacuee__stays__shelter_id"], {})[row["category__code"]] = row["people"]
    return counts


def support_people_by_shelter(*, shelter_ids: Iterable[int]) -> dict[int, int]:
    """How many people in each shelter need some support (要配慮 or 避難行動要支援者)."""
    rows = (
        Stay.objects.filter(checked_out_at__isnull=True, shelter_id__in=list(shelter_ids))
        .filter(Q(evacuee__support_needs__isnull=False) | Q(evacuee__requires_evacuation_support=True))
        .values("shelter_id")
        .annotate(people=Count("evacuee", distinct=True))
    )
    return {row["shelter_id"]: row["people"] for row in rows}


def open_follow_up_counts(*, shelter_ids: Iterable[int]) -> dict[int, int]:
    """Open follow-up cases per shelter."""
    shelter_ids = list(shelter_ids)
    if not shelter_ids:
        return {}
    rows = (
        FollowUp.objects.filter(shelter_id__in=shelter_ids)
        .exclude(state=FollowUpState.CLOSED)
        .values("shelter_id")
        .annotate(count=Count("id"))
    )
    return {row["shelter_id"]: row["count"] for row in rows}


class _Bucket(Func):
    """The bucket of `seconds` counted from `origin` a moment falls in, computed in the database so
    that one row per bucket comes back, never one per stay. PostgreSQL gives the bucket's start
    (date_bin, plain timestamp arithmetic: twice as fast at city scale as dividing the EXTRACTed
    epoch, which is numeric); SQLite its number, from julianday() rounded to whole milliseconds."""

    def __init__(self, moment: str, *, origin: datetime, seconds: int):
        super().__init__(F(moment), Value(origin, output_field=DateTimeField()))
        self.seconds = seconds

    @property
    def output_field(self):
        return DateTimeField() if connection.vendor == "postgresql" else IntegerField()

    def as_sql(self, compiler, connection, **extra):
        moment, origin = self.get_source_expressions()
        moment_sql, moment_params = compiler.compile(moment)
        origin_sql, origin_params = compiler.compile(origin)
        if connection.vendor == "postgresql":
            sql = f"date_bin(make_interval(secs => %s), {moment_sql}, {origin_sql})"
            return sql, (self.seconds, *moment_params, *origin_params)
        sql = f"(CAST(ROUND((julianday({moment_sql}) - julianday({origin_sql})) * 86400000) AS INTEGER) / %s)"
        return sql, (*moment_params, *origin_params, self.seconds * 1000)


def _bucket_number(bucket, *, origin: datetime, seconds: int) -> int:
    if isinstance(bucket, datetime):
        return round((bucket - origin).total_seconds()) // seconds
    return bucket


def stays_inside_between(
    *, shelter_ids: list[int] | None, since: datetime, now: datetime, bucket_seconds: int
) -> tuple[int, dict[int, int], dict[int, int]]:
    """(people inside at `since`, arrivals per bucket, departures per bucket) of stays inside the
    shelters, the buckets `bucket_seconds` long counted from `since` (bucket 0 starts at `since`).

    Nothing here reads more than the window's stays: the arrivals and departures are counted per
    bucket in SQL through the indexes on the two times (reading every stay's times into Python
    took 2.1 s at city scale, docs/performance.md "City scale"), and the level at `since` is worked
    back from the shelters' occupancy counters (people inside now, kept by the stay services)
    rather than counted over every stay that began before the window."""
    stays = Stay.objects.filter(mode=StayMode.INSIDE)
    shelters = Shelter.objects.all()
    if shelter_ids is not None:
        stays = stays.filter(shelter_id__in=shelter_ids)
        shelters = shelters.filter(pk__in=shelter_ids)
    inside_now = shelters.aggregate(people=Sum("occupancy"))["people"] or 0

    def per_bucket(moment: str) -> tuple[dict[int, int], int]:
        """People per bucket up to `now`, and how many since `since` in all: the counters include
        whoever came or left after `now` too (a check-in between the caller's clock and this query)."""
        rows = (
            stays.filter(**{f"{moment}__gte": since})
            .annotate(bucket=_Bucket(moment, origin=since, seconds=bucket_seconds))
            .order_by()
            .values("bucket")
            .annotate(people=Count("id", filter=Q(**{f"{moment}__lte": now})), since_then=Count("id"))
            .values_list("bucket", "people", "since_then")
        )
        rows = list(rows)
        per_bucket = {
            _bucket_number(bucket, origin=since, seconds=bucket_seconds): people for bucket, people, _ in rows if people
        }
        return per_bucket, sum(row[2] for row in rows)

    (arrivals, arrived), (departures, left) = per_bucket("checked_in_at"), per_bucket("checked_out_at")
    return inside_now - arrived + left, arrivals, departures


def response_figures(*, start: datetime, end: datetime) -> dict:
    """Answers between two moments, city-wide: how many, how many scored, K6 bands and total."""
    return Response.objects.filter(answered_at__gte=start, answered_at__lt=end).aggregate(
        responses=Count("id"),
        scored=Count("k6_score"),
        serious=Count("id", filter=Q(k6_score__gte=scoring.SERIOUS_DISTRESS)),
        moderate=Count("id", filter=Q(k6_score__gte=scoring.MODERATE_DISTRESS)),
        total=Sum("k6_score"),
    )


def survey_needs_not_received() -> dict[int, dict]:
    """Per item: requests from survey answers not yet received nor cancelled, and their quantity."""
    rows = (
        Request.objects.filter(origin=RequestOrigin.SURVEY)
        .exclude(status__in=[RequestStatus.RECEIVED, RequestStatus.CANCELLED])
        .values("item_id")
        .annotate(requests=Count("id"), quantity=Sum("quantity"))
    )
    return {row["item_id"]: row for row in rows}


def waiting_request_totals() -> dict[int, int]:
    """Per item: what open requests ask for, a request without a number counting as one."""
    return dict(
        Request.objects.filter(status=RequestStatus.OPEN)
        .values_list("item_id")
        .annotate(total=Sum("quantity", default=0) + Count("id", filter=Q(quantity__isnull=True)))
        .values_list("item_id", "total")
    )


def shelters_where_staying(*, subjects=(), everyone: bool = False) -> set[int]:
    """The shelters where these consent subjects (consent.models.subject_of: `cityos:<id>`,
    `person:<pk>`) have an open stay; with `everyone`, every shelter someone stays at. Ids only."""
    stays = Stay.objects.filter(checked_out_at__isnull=True)
    if not everyone:
        city_os_ids, person_ids = people_of_subjects(subjects)
        if not city_os_ids and not person_ids:
            return set()
        stays = stays.filter(Q(evacuee__city_os_id__in=city_os_ids) | Q(evacuee_id__in=person_ids))
    return set(stays.order_by().values_list("shelter_id", flat=True).distinct())
