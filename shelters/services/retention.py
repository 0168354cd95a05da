"""Retention: anonymising a person's data when it is no longer needed, and HQ's legal hold against it.

When (`access.retention`): RETENTION_DAYS after the person's last stay ended and every disaster they
stayed through was closed; never while they stay, while a disaster is open, or under a legal hold.

What anonymising keeps, so every count, report and figure stays the same (tests/shelters/
test_retention.py compares them before and after):
- the person's row (its id, sex unknown, the evacuation-support flag), their stays, support needs by
  category, follow-up cases, survey answers' choices and numbers, supply requests, the audit trail
  (ids only) and the record of reads (the person it names is anonymous now);
- their consent records (the receipts: evidence of the basis each past read had, ids only), and,
  for someone the City OS knows, their ledger: it is the resident's standing choice under their
  City OS ID, which applies again if they ever come back, not data about this stay.

What it blanks: name, kana, birth date, sex, address, phone, the City OS link, the household, the
notes of support needs; and, through the handlers the higher apps register (as with moves), free
text that can name a person: survey answers' free text, follow-up notes, supply request details, the
messages of correction requests, and the survey token is revoked. A walk-in's consent ledger (`person:<id>`) has nobody left to decide
for: its current decisions go, its receipts stay.

Locks: the person's row (`select_for_update`), then what the handlers update. The check-in locks
the same row after the shelter's, and refuses an anonymised person, so nobody is anonymised while
being checked in. The beat job claims rows with SKIP LOCKED: two runs never take the same person.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access import policy, retention
from common.audit import audit_record
from common.errors import ApplicationError
from common.limits import NUL_MESSAGE
from consent.models import ConsentDecision, ConsentSubject, subject_of
from shelters.models import Evacuee, Household, Sex, SupportNeed, User


@dataclass(frozen=True)
class PersonAnonymised:
    evacuee_id: int
    at: datetime


# A handler blanks its app's free text about the person and returns what it changed, by name
# (counts only: they go into the audit entry).
PersonAnonymisedHandler = Callable[[PersonAnonymised], dict[str, int]]

person_anonymised_handlers: list[PersonAnonymisedHandler] = []


def register_person_anonymised_handler(handler: PersonAnonymisedHandler) -> None:
    """Called from an AppConfig.ready(); registering the same handler twice keeps one."""
    if handler not in person_anonymised_handlers:
        person_anonymised_handlers.append(handler)


REASON_MAX_LENGTH = Evacuee._meta.get_field("legal_hold_reason").max_length

BLANKED = {
    "name": "",
    "name_kana": "",
    "birth_date": None,
    "sex": Sex.UNKNOWN,
    "address": "",
    "phone": "",
    "city_os_id": None,
    "household": None,
}


def people_due_for_anonymisation(now: datetime | None = None, *, limit: int | None = None) -> list[int]:
    """Ids of the people due now (see `access.retention.due_people`), lowest first."""
    due = retention.due_people(now).values_list("pk", flat=True)
    return list(due if limit is None else due[:limit])


def _anonymise(person: Evacuee, *, at: datetime, actor: User | None) -> None:
    subject = subject_of(person)  # before the City OS link goes
    changed: dict[str, int] = {
        "support_need_notes": SupportNeed.objects.filter(evacuee=person).exclude(notes="").update(notes="")
    }
    if person.household_id is not None:
        Household.objects.filter(pk=person.household_id, representative=person).update(representative=None)
    if subject.startswith("person:"):
        changed["consent_decisions"] = ConsentDecision.objects.filter(subject=subject).delete()[0]
        ConsentSubject.objects.filter(key=subject).delete()
    for handler in person_anonymised_handlers:
        changed |= handler(PersonAnonymised(evacuee_id=person.pk, at=at))
    Evacuee.objects.filter(pk=person.pk).update(**BLANKED, anonymised_at=at, updated_at=at)
    audit_record(
        actor=actor,
        action="person.anonymised",
        object_type="evacuee",
        object_id=person.pk,
        details={"changed": {name: count for name, count in changed.items() if count}},
    )


@transaction.atomic
def evacuee_anonymise(*, evacuee_id: int, now: datetime | None = None, actor: User | None = None) -> bool:
    """Anonymise one person if they are due now; False (and nothing written) if not, or already done."""
    now = now or timezone.now()
    if not list(Evacuee.objects.select_for_update().filter(pk=evacuee_id).values_list("pk", flat=True)):
        return False
    person = _still_due([evacuee_id], now)
    if not person:
        return False
    _anonymise(person[0], at=now, actor=actor)
    return True


def _still_due(ids: list[int], now: datetime) -> list[Evacuee]:
    """Of people whose rows this transaction has locked, those due: asked again in a statement of its
    own, after the locks. A check-in that held a person's lock while we waited leaves the row itself
    unchanged, so the locking statement's own view of their stays (its snapshot, from before the wait)
    may miss the stay it opened; a new statement sees it."""
    return list(retention.due_people(now).filter(pk__in=ids))


@dataclass(frozen=True)
class RetentionRun:
    anonymised: int
    batches: int


def retention_anonymise_due(
    *, now: datetime | None = None, batch_size: int | None = None, limit: int | None = None
) -> RetentionRun:
    """The beat job: anonymise everyone due, `batch_size` per transaction, at most `limit` per run.

    Each batch claims its people with SKIP LOCKED, so runs that overlap share the work and never
    anonymise the same person twice; a crash loses at most one batch, which the next run redoes.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    limit = limit or settings.RETENTION_MAX_PER_RUN
    anonymised = batches = 0
    while anonymised < limit:
        with transaction.atomic():
            claimed = list(
                retention.due_people(now)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[: min(batch_size, limit - anonymised)]
            )
            people = _still_due(claimed, now) if claimed else []
            for person in people:
                _anonymise(person, at=now, actor=None)
        if not claimed:
            break
        anonymised += len(people)
        batches += 1
        if len(claimed) < batch_size:
            break
    if anonymised:
        audit_record(
            actor=None,
            action="retention.run",
            object_type="retention",
            object_id=now.date().isoformat(),
            details={"anonymised": anonymised, "batches": batches, "retention_days": settings.RETENTION_DAYS},
        )
    return RetentionRun(anonymised=anonymised, batches=batches)


def _held_person(evacuee_id: int, actor: User | None) -> Evacuee:
    if not policy.can_hold_personal_data(actor):
        raise ApplicationError(
            _("Only the disaster headquarters may set or lift a legal hold."), code="forbidden", status_code=403
        )
    person = Evacuee.objects.select_for_update().filter(pk=evacuee_id).first()
    if person is None:
        raise ApplicationError(_("Unknown person."), code="not_found", field="evacuee", status_code=404)
    if person.anonymised_at is not None:
        raise ApplicationError(_("This person's data has already been anonymised."), field="evacuee")
    return person


@transaction.atomic
def legal_hold_set(*, evacuee_id: int, actor: User | None, reason: str) -> Evacuee:
    """HQ keeps a person's data from being anonymised, saying why (shown to HQ, never audited as text)."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Say why the data must be kept."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ApplicationError(
            _("Keep the reason under %(max)d characters.") % {"max": REASON_MAX_LENGTH}, field="reason"
        )
    if "\x00" in reason:
        raise ApplicationError(NUL_MESSAGE, field="reason")
    person = _held_person(evacuee_id, actor)
    was_held = person.legal_hold_at is not None
    Evacuee.objects.filter(pk=person.pk).update(
        legal_hold_at=person.legal_hold_at or timezone.now(), legal_hold_by=actor, legal_hold_reason=reason
    )
    audit_record(
        actor=actor,
        action="person.legal_hold_set",
        object_type="evacuee",
        object_id=person.pk,
        details={"changed_reason": was_held},
    )
    person.refresh_from_db()
    return person


@transaction.atomic
def legal_hold_lift(*, evacuee_id: int, actor: User | None) -> Evacuee:
    """HQ lifts a legal hold; the person's data then follows the retention rule again."""
    person = _held_person(evacuee_id, actor)
    if person.legal_hold_at is None:
        raise ApplicationError(_("This person's data is not under a legal hold."), field="evacuee")
    Evacuee.objects.filter(pk=person.pk).update(legal_hold_at=None, legal_hold_by=None, legal_hold_reason="")
    audit_record(
        actor=actor,
        action="person.legal_hold_lifted",
        object_type="evacuee",
        object_id=person.pk,
        details={"held_since": person.legal_hold_at.isoformat()},
    )
    person.refresh_from_db()
    return person
