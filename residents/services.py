"""Every write the resident's page makes: their consents (through consent.services) and their
requests for correction, and HQ's handling of those requests."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access import residents as own
from common.audit import audit_record
from common.errors import ApplicationError
from common.limits import NUL_MESSAGE
from consent.models import ConsentRecord
from consent.rules import Method
from consent.services import Change, consents_record
from residents.models import MESSAGE_MAX_LENGTH, CorrectableField, CorrectionRequest, CorrectionState
from shelters.services.retention import PersonAnonymised

# A resident with this many requests still open waits for the city before asking again.
MAX_OPEN_CORRECTIONS = 20


def resident_consents_change(*, user, changes: Iterable[Change], timing: str | None) -> ConsentRecord | None:
    """The resident's own answers on /me/consents/: one consent record, collected by themselves.

    The form always sends the timing; it is recorded only when it is new (or chosen for the first
    time), so a record says what the resident changed."""
    if timing is not None:
        current = own.own_consents(user)
        if current.timing_set and current.timing == timing:
            timing = None
    return consents_record(
        subject=own.own_subject(user),
        changes=changes,
        method=Method.RESIDENT_PAGE,
        collected_by=user,
        timing=timing,
    )


@transaction.atomic
def correction_request_create(*, user, evacuee_id, field: str, message: str) -> CorrectionRequest:
    """A resident asks the city to correct one thing it holds about them. Audited with ids and the
    field's name only: the message is the resident's own words about their data."""
    if field not in CorrectableField.values:
        raise ApplicationError(_("Choose what to correct."), field="field")
    message = (message or "").strip()
    if not message:
        raise ApplicationError(_("Say what is wrong."), field="message")
    if len(message) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            _("Write at most %(limit)d characters.") % {"limit": MESSAGE_MAX_LENGTH}, field="message"
        )
    if "\x00" in message:
        raise ApplicationError(NUL_MESSAGE, field="message")
    person = own.own_person_by_id(user, evacuee_id)
    # One request at a time per resident, so two at once cannot both pass the count.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if CorrectionRequest.objects.filter(requester=user, state=CorrectionState.OPEN).count() >= MAX_OPEN_CORRECTIONS:
        raise ApplicationError(
            _("You have many requests waiting already; the city will answer them first."), field="message"
        )
    request = CorrectionRequest.objects.create(
        requester=user, evacuee=person, field=field, message=message, created_at=timezone.now()
    )
    audit_record(
        actor=user,
        action="correction.requested",
        object_type="correction_request",
        object_id=request.pk,
        details={"evacuee": person.pk, "field": field},
    )
    return request


@transaction.atomic
def correction_request_handle(*, user, request_id, state: str) -> CorrectionRequest:
    """HQ marks a request corrected or declined (once: a handled request stays handled)."""
    if state not in (CorrectionState.DONE, CorrectionState.DECLINED):
        raise ApplicationError(_("Choose corrected or not corrected."), field="state")
    found = own.access_correction_request_by_id(user, request_id)
    updated = CorrectionRequest.objects.filter(pk=found.pk, state=CorrectionState.OPEN).update(
        state=state, handled_by=user, handled_at=timezone.now()
    )
    if updated != 1:
        raise ApplicationError(_("This request was already handled."), field="state", code="conflict", status_code=409)
    audit_record(
        actor=user,
        action="correction.handled",
        object_type="correction_request",
        object_id=found.pk,
        details={"evacuee": found.evacuee_id, "state": state},
    )
    found.refresh_from_db()
    return found


def correction_requests_anonymise_person(anonymised: PersonAnonymised) -> dict[str, int]:
    """What a resident wrote in a correction request names them ("my name is 山田…"): blanked when the
    person is anonymised (a retention handler, shelters/services/retention.py). The request's field,
    state and dates stay: HQ's record of having handled it."""
    blanked = CorrectionRequest.objects.filter(evacuee_id=anonymised.evacuee_id).exclude(message="").update(message="")
    return {"correction_messages": blanked}
