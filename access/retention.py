"""When a person's data is anonymised: the one rule, for the beat job and for the resident's page.

A person's personal data is kept while it can still be needed and anonymised RETENTION_DAYS after
the later of:

- the end of their last stay (for someone registered who never stayed: their registration), and
- the close of every disaster that was open during one of their stays;

never while they stay somewhere, never while any disaster is open (people come back, families ask),
never under a legal hold HQ set, and only for real data (sample and replay rows are fictional and
are removed with their source instead).

`due_people(now)` is the queryset the beat job claims rows from; `retention_of(person)` says the
same for one person, with the date or the reason it is not yet known. Neither returns any personal
value: ids, dates and a state.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from common.sources import DataSource
from shelters.models import Disaster, Evacuee, Stay


def retention_period() -> timedelta:
    return timedelta(days=settings.RETENTION_DAYS)


def any_disaster_open() -> bool:
    return Disaster.objects.filter(closed_at__isnull=True).exists()


def due_people(now: datetime | None = None) -> QuerySet[Evacuee]:
    """People whose data is due for anonymisation at `now`, by id; empty while a disaster is open.

    No aggregate and no join that multiplies rows, so the beat job can lock what it claims
    (`select_for_update(skip_locked=True)`).
    """
    now = now or timezone.now()
    if any_disaster_open():
        return Evacuee.objects.none()
    cutoff = now - retention_period()
    stays = Stay.objects.filter(evacuee=OuterRef("pk"))
    closed_recently = Disaster.objects.filter(
        closed_at__gt=cutoff, started_at__lte=OuterRef("checked_out_at"), closed_at__gte=OuterRef("checked_in_at")
    )
    return (
        Evacuee.objects.filter(source=DataSource.REAL, anonymised_at__isnull=True, legal_hold_at__isnull=True)
        .filter(Q(Exists(stays)) | Q(created_at__lte=cutoff))
        .exclude(Exists(stays.filter(checked_out_at__isnull=True)))
        .exclude(Exists(stays.filter(checked_out_at__gt=cutoff)))
        .exclude(Exists(stays.filter(Exists(closed_recently))))
        .order_by("pk")
    )


class RetentionState:
    ANONYMISED = "anonymised"
    LEGAL_HOLD = "legal_hold"
    STAYING = "staying"
    DISASTER_OPEN = "disaster_open"
    SAMPLE = "sample"
    SCHEDULED = "scheduled"


@dataclass(frozen=True)
class Retention:
    state: str
    # When the data was anonymised (ANONYMISED) or will be, at the earliest (SCHEDULED).
    at: datetime | None = None


def retention_of(person: Evacuee, now: datetime | None = None) -> Retention:
    """The same rule as `due_people`, for one person (two or three small queries)."""
    now = now or timezone.now()
    if person.anonymised_at is not None:
        return Retention(RetentionState.ANONYMISED, person.anonymised_at)
    if person.legal_hold_at is not None:
        return Retention(RetentionState.LEGAL_HOLD)
    if person.source != DataSource.REAL:
        return Retention(RetentionState.SAMPLE)
    stays = Stay.objects.filter(evacuee_id=person.pk).order_by()
    spans = list(stays.values_list("checked_in_at", "checked_out_at"))
    if any(end is None for _start, end in spans):
        return Retention(RetentionState.STAYING)
    if any_disaster_open():
        return Retention(RetentionState.DISASTER_OPEN)
    kept_from = max((end for _start, end in spans), default=person.created_at)
    if spans:
        overlapping = Q()
        for start, end in spans:
            overlapping |= Q(started_at__lte=end, closed_at__gte=start)
        closed = Disaster.objects.filter(overlapping).aggregate(last=Max("closed_at"))["last"]
        if closed is not None:
            kept_from = max(kept_from, closed)
    return Retention(RetentionState.SCHEDULED, kept_from + retention_period())


def retention_note(person: Evacuee | None, now: datetime | None = None) -> str | None:
    """What the resident's page says about when their data is anonymised; None without a person."""
    if person is None:
        return None
    found = retention_of(person, now)
    days = settings.RETENTION_DAYS
    if found.state == RetentionState.ANONYMISED:
        return _("Your data held by the shelters was anonymised on %(date)s.") % {"date": _date(found.at)}
    if found.state == RetentionState.LEGAL_HOLD:
        return _(
            "Your data is kept under a legal hold set by the disaster headquarters, and will not be "
            "anonymised until the hold is lifted."
        )
    if found.state == RetentionState.SAMPLE:
        return _("This is sample data: it is removed with the sample data, not anonymised.")
    if found.state == RetentionState.STAYING:
        return _(
            "You are staying at a shelter. Your data will be anonymised %(days)s days after your stay ends "
            "and the disaster is closed."
        ) % {"days": days}
    if found.state == RetentionState.DISASTER_OPEN:
        return _(
            "A disaster is open, so your data is kept for now. It will be anonymised %(days)s days after "
            "the disaster is closed."
        ) % {"days": days}
    return _("Your data held by the shelters will be anonymised on or after %(date)s.") % {"date": _date(found.at)}


def retention_summary(person: Evacuee, now: datetime | None = None) -> str:
    """The same for staff (HQ, on the person's page), about the person rather than to them."""
    found = retention_of(person, now)
    days = settings.RETENTION_DAYS
    if found.state == RetentionState.ANONYMISED:
        return _("Anonymised on %(date)s: only what the counts need is kept.") % {"date": _date(found.at)}
    if found.state == RetentionState.LEGAL_HOLD:
        return _("Kept under a legal hold: not anonymised until the hold is lifted.")
    if found.state == RetentionState.SAMPLE:
        return _("Sample data: removed with the sample data, not anonymised.")
    if found.state == RetentionState.STAYING:
        return _("Staying at a shelter: anonymised %(days)s days after the stay ends and the disaster is closed.") % {
            "days": days
        }
    if found.state == RetentionState.DISASTER_OPEN:
        return _("A disaster is open: kept, and anonymised %(days)s days after it is closed.") % {"days": days}
    return _("To be anonymised on or after %(date)s.") % {"date": _date(found.at)}


def _date(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")
