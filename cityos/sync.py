"""A resident's opt-in at the City OS, copied into the consent ledger (consent.services.consents_record,
method city_os), so what they set there applies here without being asked again.

When: a resident signs in with the City OS (`signed_in`, on Django's user_logged_in), the desk fetches
a resident after scanning their QR code (shelters.views), and beat for the people staying in a
shelter (cityos.tasks.consents_sync_staying, a bounded batch per run).

Which wins, the City OS or this site's own pages (the resident's /me/, the desk asking): the last
writer by time. The whole answer is skipped unless the City OS's `updated_at` is newer than what was
last applied (`ConsentSubject.city_os_synced_at`, kept in the City OS's own clock); then each cell
the City OS decided after the ledger's decision for that cell (`decided_at`) is applied, and a cell
set here later keeps its value. A cell the City OS no longer lists is taken back ("not asked") only
when the ledger's decision came from an earlier sync: a withdrawal at the City OS withdraws what it
gave, never what the resident said here. The timing preference follows the same rule against the
latest record here that set one. Records applied from the City OS carry the City OS's `updated_at`
as their time, so later comparisons are between the times the resident actually decided.
"""

import logging
from dataclasses import dataclass

from django.db import transaction

from cityos import client
from consent.models import ConsentDecision, ConsentRecord, ConsentSubject, subject_of_city_os_id
from consent.rules import NOT_ASKED, Method
from consent.services import Change, consent_subject_locked, consents_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    applied: bool  # the City OS's answer was newer than the last one applied
    record: ConsentRecord | None  # the consent record, when a cell or the timing changed


def _changes(subject: str, opt_in: client.OptIn) -> list[Change]:
    current = {
        (d.category, d.recipient, d.context): d
        for d in ConsentDecision.objects.filter(subject=subject).select_related("record").order_by()
    }
    listed = set()
    changes = []
    for decision in opt_in.decisions:
        cell = (decision.category, decision.recipient, decision.context)
        listed.add(cell)
        here = current.get(cell)
        if here is None or (decision.at > here.decided_at and here.decision != decision.decision):
            changes.append(Change(*cell, decision=decision.decision))
    for cell, here in current.items():
        if cell not in listed and here.record.method == Method.CITY_OS and opt_in.updated_at > here.decided_at:
            changes.append(Change(*cell, decision=NOT_ASKED))
    return changes


def _timing(subject: str, holder: ConsentSubject, opt_in: client.OptIn) -> str | None:
    if holder.timing_set and holder.timing == opt_in.timing:
        return None
    last_set_here = ConsentRecord.objects.filter(subject=subject).exclude(timing="").order_by("-at").first()
    if last_set_here is not None and last_set_here.at >= opt_in.updated_at:
        return None
    return opt_in.timing


@transaction.atomic
def consents_apply(*, opt_in: client.OptIn) -> SyncResult:
    """Apply an answer of the City OS opt-in API to the resident's ledger (the rule: module docstring)."""
    subject = subject_of_city_os_id(opt_in.city_os_id)
    holder = consent_subject_locked(subject)
    if opt_in.updated_at is None or (holder.city_os_synced_at and opt_in.updated_at <= holder.city_os_synced_at):
        return SyncResult(applied=False, record=None)
    record = consents_record(
        subject=subject,
        changes=_changes(subject, opt_in),
        method=Method.CITY_OS,
        collected_by=None,
        timing=_timing(subject, holder, opt_in),
        at=opt_in.updated_at,
    )
    ConsentSubject.objects.filter(pk=holder.pk).update(city_os_synced_at=opt_in.updated_at)
    return SyncResult(applied=True, record=record)


def consents_sync(*, city_os_id: str) -> SyncResult:
    """Ask the City OS for the resident's opt-in and apply it; CityOSError when it does not answer."""
    opt_in = client.resident_consents(city_os_id)
    if opt_in.city_os_id != city_os_id:
        raise client.CityOSUnavailable("The City OS opt-in answer is about another resident.")
    return consents_apply(opt_in=opt_in)


def consents_sync_quietly(*, city_os_id: str) -> SyncResult | None:
    """`consents_sync` for callers that go on without it (a sign-in, the desk): None when the City
    OS did not answer; beat tries again. The log names the failure, never the resident."""
    try:
        return consents_sync(city_os_id=city_os_id)
    except client.CityOSError as error:
        logger.info("City OS opt-in sync skipped: %s", type(error).__name__)
        return None


def signed_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: a resident (or staff) who signed in with the City OS gets their opt-in applied
    before their first page. A password login does not wait on the City OS."""
    if getattr(user, "city_os_id", None) and getattr(user, "backend", "") == "cityos.auth.CityOSBackend":
        consents_sync_quietly(city_os_id=user.city_os_id)
