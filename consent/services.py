"""Every change to a resident's consents, each producing one consent record (the receipt).

Callers: the resident's page, the desk and the phone survey when they ask, the City OS sync.

Also the legal-basis releases HQ declares (`release_declare`, `release_revoke`, `releases_end`).

Whatever changes what a reader may see (a resident's decision, a release beginning or ending) is
announced to the handlers apps above register (`register_consent_changed_handler`): the shelters
app refreshes the open dashboards of the shelters where those residents stay, after commit. No
Django signals, and consent imports nothing of theirs.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from access.consent import current_context
from common import limits
from common.audit import audit_record
from common.errors import ApplicationError
from consent.models import SUBJECT_LENGTH, ConsentDecision, ConsentRecord, ConsentSubject, LegalRelease
from consent.rules import LEGAL_RULES, NOT_ASKED, Category, Context, Decision, Method, Recipient, ReleaseScope, Timing
from consent.selectors import release_status

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
    return ConsentSubject.objects.select_for_update().get_or_create(key=subject)[0]


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
    # At most one statement per kind of change, however many cells changed.
    keys = {change: (change.category, change.recipient, change.context) for change, _was in applied}
    taken_back = [current[keys[c]].pk for c in keys if c.decision == NOT_ASKED]
    if taken_back:
        ConsentDecision.objects.filter(pk__in=taken_back).delete()
    for decision in Decision.values:
        changed = [current[keys[c]].pk for c in keys if c.decision == decision and keys[c] in current]
        if changed:
            ConsentDecision.objects.filter(pk__in=changed).update(decision=decision, decided_at=at, record=record)
    ConsentDecision.objects.bulk_create(
        ConsentDecision(
            subject=subject,
            category=change.category,
            recipient=change.recipient,
            context=change.context,
            decision=change.decision,
            decided_at=at,
            record=record,
        )
        for change, key in keys.items()
        if change.decision != NOT_ASKED and key not in current
    )
    if timing_changed:
        holder.timing = timing
        holder.timing_set = True
        holder.save(update_fields=["timing", "timing_set", "updated_at"])
    consent_changed(subjects=[subject])
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


def desk_answers_record(*, answers: dict[str, dict[str, str]], method: str, collected_by=None) -> list[ConsentRecord]:
    """The answers to the desk's questions (at the desk, or on the resident's own phone) in the
    current context; a subject who answered nothing ("later") is left out."""
    from consent import asking

    return consents_answer(
        answers={subject: given for subject, given in answers.items() if given},
        categories=asking.DESK_CATEGORIES,
        recipients=asking.DESK_RECIPIENTS,
        context=current_context(),
        method=method,
        collected_by=collected_by,
    )


# --- Who must hear of a change ------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentChanged:
    """What changed: these residents' decisions, or (everyone) a release that may cover anyone."""

    subjects: tuple[str, ...] = ()
    everyone: bool = False


ConsentChangedHandler = Callable[[ConsentChanged], None]

consent_changed_handlers: list[ConsentChangedHandler] = []


def register_consent_changed_handler(handler: ConsentChangedHandler) -> None:
    """Called from an AppConfig.ready(); registering the same handler twice keeps one."""
    if handler not in consent_changed_handlers:
        consent_changed_handlers.append(handler)


def consent_changed(*, subjects: Iterable[str] = (), everyone: bool = False) -> None:
    """Tell the registered handlers, inside the writer's transaction (they act after commit)."""
    change = ConsentChanged(subjects=tuple(subjects), everyone=everyone)
    for handler in consent_changed_handlers:
        handler(change)


# --- Legal-basis releases -----------------------------------------------------------------------

# A release is an emergency measure: it is declared for days, not open-ended, and declared again
# if still needed.
RELEASE_MAX_HOURS = 7 * 24
RELEASE_REASON_MAX_LENGTH = 500
RELEASE_MAX_SHELTERS = 500


def _release_rule(rule: str):
    if rule not in settings.CONSENT_RELEASE_RULES or rule not in LEGAL_RULES or LEGAL_RULES[rule].standing:
        raise ApplicationError(_("This legal rule cannot be declared here."), field="rule")
    return LEGAL_RULES[rule]


def _within(values, allowed: frozenset[str], *, field: str, message) -> list[str]:
    values = list(values or [])
    if not values:
        raise ApplicationError(_("Choose at least one."), field=field)
    if any(not isinstance(value, str) or value not in allowed for value in values):
        raise ApplicationError(message, field=field)
    return sorted(set(values))


def _release_expiry(*, now: datetime, expires_at: datetime | None, hours: int | None) -> datetime:
    if (expires_at is None) == (hours is None):
        raise ApplicationError(_("Give either the end time or the number of hours."), field="expires_at")
    if hours is not None:
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= RELEASE_MAX_HOURS:
            raise ApplicationError(_("Between 1 and %(max)d hours.") % {"max": RELEASE_MAX_HOURS}, field="hours")
        return now + timedelta(hours=hours)
    if timezone.is_naive(expires_at):
        raise ApplicationError(_("Give the time with its time zone."), field="expires_at")
    if expires_at <= now:
        raise ApplicationError(_("The end must be in the future."), field="expires_at")
    if expires_at > now + timedelta(hours=RELEASE_MAX_HOURS):
        raise ApplicationError(
            _("A release lasts at most %(days)d days; declare it again if it is still needed.")
            % {"days": RELEASE_MAX_HOURS // 24},
            field="expires_at",
        )
    return expires_at


@transaction.atomic
def release_declare(
    *,
    disaster_id: int,
    rule: str,
    categories: Iterable[str],
    recipients: Iterable[str],
    scope: str,
    shelter_ids: Iterable[int] = (),
    reason: str,
    expires_at: datetime | None = None,
    hours: int | None = None,
    actor,
) -> LegalRelease:
    """Declare a disclosure under a legal rule, for an open disaster, a scope and a time limit.

    Only the rules the deployment lets HQ declare (settings.CONSENT_RELEASE_RULES); the categories
    and recipients within the rule's; at most RELEASE_MAX_HOURS. Audited with the article.
    Lock order: the disaster's row (so it cannot close meanwhile).
    """
    legal_rule = _release_rule(rule)
    categories = _within(
        categories, legal_rule.categories, field="categories", message=_("This rule does not cover these data.")
    )
    recipients = _within(
        recipients, legal_rule.recipients, field="recipients", message=_("This rule does not allow these recipients.")
    )
    if scope not in ReleaseScope.values:
        raise ApplicationError(_("Unknown scope."), field="scope")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Say why the release is needed."), field="reason")
    if len(reason) > RELEASE_REASON_MAX_LENGTH or "\x00" in reason:
        raise ApplicationError(_("At most %(max)d characters.") % {"max": RELEASE_REASON_MAX_LENGTH}, field="reason")
    shelter_ids = list(shelter_ids or [])
    if len(shelter_ids) > RELEASE_MAX_SHELTERS or any(
        isinstance(i, bool) or not isinstance(i, int) or not 1 <= i <= limits.BIGINT_MAX for i in shelter_ids
    ):
        raise ApplicationError(_("Unknown shelter."), field="shelters")
    now = timezone.now()
    expires_at = _release_expiry(now=now, expires_at=expires_at, hours=hours)
    disaster_model = apps.get_model("shelters", "Disaster")
    shelter_model = apps.get_model("shelters", "Shelter")
    disaster = disaster_model.objects.select_for_update().filter(pk=disaster_id).first()
    if disaster is None or disaster.closed_at is not None:
        raise ApplicationError(_("Declare a release for an open disaster."), field="disaster")
    shelter_ids = sorted(set(shelter_ids))
    if shelter_ids and shelter_model.objects.filter(pk__in=shelter_ids).count() != len(shelter_ids):
        raise ApplicationError(_("Unknown shelter."), field="shelters")
    release = LegalRelease.objects.create(
        disaster=disaster,
        rule=legal_rule.code,
        article=legal_rule.article,
        categories=categories,
        recipients=recipients,
        scope=scope,
        reason=reason,
        declared_by=actor,
        declared_at=now,
        expires_at=expires_at,
    )
    if shelter_ids:
        release.shelters.set(shelter_ids)
    audit_record(
        actor=actor,
        action="consent.release_declared",
        object_type="legal_release",
        object_id=release.pk,
        details={
            "rule": legal_rule.code,
            "article": legal_rule.article,
            "disaster": disaster.pk,
            "categories": categories,
            "recipients": recipients,
            "scope": scope,
            "shelters": sorted(shelter_ids),
            "expires_at": expires_at.isoformat(),
        },
    )
    consent_changed(everyone=True)
    return release


@transaction.atomic
def release_revoke(*, release_id: int, actor) -> LegalRelease:
    """End a release before its time. Revoking one already revoked or ended is refused."""
    release = LegalRelease.objects.select_for_update().filter(pk=release_id).first()
    if release is None:
        raise ApplicationError(_("Unknown release."), field="release", status_code=404, code="not_found")
    now = timezone.now()
    if release.revoked_at is not None or release.expires_at <= now:
        raise ApplicationError(_("This release has already ended."), field="release", code="conflict", status_code=409)
    release.revoked_at = now
    release.revoked_by = actor
    release.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="consent.release_revoked",
        object_type="legal_release",
        object_id=release.pk,
        details={"rule": release.rule, "article": release.article},
    )
    consent_changed(everyone=True)
    return release


def releases_end(*, now: datetime | None = None, batch: int = 500) -> int:
    """Beat's job: record each release that has ended (expired, revoked, its disaster closed) once.

    Expiry is enforced where releases are read (access.consent.active_releases); this only writes
    the end down and audits it, so running it twice records nothing twice (each row is claimed with
    `filter(..., ended_recorded_at=None).update(...) == 1`).
    """
    now = now or timezone.now()
    ended = Q(expires_at__lte=now) | Q(revoked_at__isnull=False) | Q(disaster__closed_at__isnull=False)
    recorded = 0
    candidates = list(
        LegalRelease.objects.filter(ended, ended_recorded_at__isnull=True)
        .select_related("disaster")
        .order_by("id")[:batch]
    )
    for release in candidates:
        with transaction.atomic():
            if (
                LegalRelease.objects.filter(pk=release.pk, ended_recorded_at__isnull=True).update(ended_recorded_at=now)
                != 1
            ):
                continue
            how, _label = release_status(release, now)
            audit_record(
                actor=None,
                action="consent.release_ended",
                object_type="legal_release",
                object_id=release.pk,
                details={"rule": release.rule, "article": release.article, "how": how},
            )
            recorded += 1
    if recorded:
        # Open dashboards stop showing what the releases showed (reads already stopped at expiry).
        with transaction.atomic():
            consent_changed(everyone=True)
    return recorded
