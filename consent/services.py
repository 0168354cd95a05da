"""Every change to a resident's consents, each producing one consent record (the receipt).

Callers: the resident's page, the desk and the phone survey when they ask, the City OS sync.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.errors import ApplicationError
from consent.models import SUBJECT_LENGTH, ConsentDecision, ConsentRecord, ConsentSubject
from consent.rules import NOT_ASKED, Category, Context, Decision, Method, Recipient, Timing

# A resident's whole ledger is 7 categories x 5 recipients x 2 contexts.
MAX_CHANGES = len(Category.values) * len(Recipient.values) * len(Context.values)


@dataclass(frozen=True)
class Change:
    category: str
    recipient: str
    context: str
    decision: str  # given, refused, or not_asked (the resident takes the question back)


def _validated(changes: Iterable[Change]) -> list[Change]:
    found = list(changes)
    if len(found) > MAX_CHANGES:
        raise ApplicationError(_("Too many consent changes at once."), field="changes")
    for change in found:
        for field_name, allowed in (
            ("category", Category.values),
            ("recipient", Recipient.values),
            ("context", Context.values),
            ("decision", [*Decision.values, NOT_ASKED]),
        ):
            if getattr(change, field_name) not in allowed:
                raise ApplicationError(_("Unknown %(field)s.") % {"field": field_name}, field=field_name)
    # The last word on a cell wins.
    return list({(c.category, c.recipient, c.context): c for c in found}.values())


def consent_subject_locked(subject: str) -> ConsentSubject:
    """The subject's row, created if new and locked: one change to a ledger at a time."""
    if not subject or len(subject) > SUBJECT_LENGTH:
        raise ApplicationError(_("Unknown resident."), field="subject")
    ConsentSubject.objects.get_or_create(key=subject)
    return ConsentSubject.objects.select_for_update().get(key=subject)


@transaction.atomic
def consents_record(
    *,
    subject: str,
    changes: Iterable[Change],
    method: str,
    collected_by=None,
    timing: str | None = None,
    at=None,
) -> ConsentRecord | None:
    """Apply the resident's answers and return the consent record; None when nothing changed."""
    if method not in Method.values:
        raise ApplicationError(_("Unknown collection method."), field="method")
    if timing is not None and timing not in Timing.values:
        raise ApplicationError(_("Unknown timing."), field="timing")
    changes = _validated(changes)
    at = at or timezone.now()
    holder = consent_subject_locked(subject)
    current = {
        (d.category, d.recipient, d.context): d for d in ConsentDecision.objects.filter(subject=subject).order_by()
    }
    applied = []
    for change in changes:
        key = (change.category, change.recipient, change.context)
        was = current[key].decision if key in current else NOT_ASKED
        if was != change.decision:
            applied.append((change, was))
    timing_changed = timing is not None and (timing != holder.timing or not holder.timing_set)
    if not applied and not timing_changed:
        return None
    record = ConsentRecord.objects.create(
        subject=subject,
        at=at,
        method=method,
        collected_by=collected_by if getattr(collected_by, "is_authenticated", False) else None,
        changes=[
            {
                "category": c.category,
                "recipient": c.recipient,
                "context": c.context,
                "decision": c.decision,
                "was": was,
            }
            for c, was in applied
        ],
        timing=timing or "",
    )
    for change, _was in applied:
        key = (change.category, change.recipient, change.context)
        if change.decision == NOT_ASKED:
            current[key].delete()
        elif key in current:
            ConsentDecision.objects.filter(pk=current[key].pk).update(
                decision=change.decision, decided_at=at, record=record
            )
        else:
            ConsentDecision.objects.create(
                subject=subject,
                category=change.category,
                recipient=change.recipient,
                context=change.context,
                decision=change.decision,
                decided_at=at,
                record=record,
            )
    if timing_changed:
        holder.timing = timing
        holder.timing_set = True
        holder.save(update_fields=["timing", "timing_set", "updated_at"])
    audit_record(
        actor=record.collected_by,
        action="consent.changed",
        object_type="consent_subject",
        object_id=holder.pk,
        details={"record": str(record.receipt_id), "method": method, "cells": len(applied)},
    )
    return record


@transaction.atomic
def consents_answer(
    *,
    answers: dict[str, dict[str, str]],
    categories: Iterable[str],
    recipients: Iterable[str],
    context: str,
    method: str,
    collected_by=None,
) -> list[ConsentRecord]:
    """Record residents' answers to the questions they were asked (consent/asking.py), all or none.

    `answers` maps each subject to {category: given | refused}. The questions are worked out again
    here under the subject's lock, so an answer only changes the cells that are still to be asked
    (a question answered meanwhile on another device is not overwritten by a stale page).
    """
    from consent import asking  # asking builds this module's Changes: imported when used

    categories, recipients = list(categories), list(recipients)
    records = []
    for subject in sorted(answers):  # one lock order for every caller
        consent_subject_locked(subject)
        questions = asking.questions_for(subject, categories, recipients, context)
        changes = asking.changes_for(questions, answers[subject])
        if changes:
            record = consents_record(subject=subject, changes=changes, method=method, collected_by=collected_by)
            if record is not None:
                records.append(record)
    return records
