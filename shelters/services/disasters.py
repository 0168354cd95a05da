"""Declaring and closing disasters: while one is open the city is in the disaster context.

Consent is given per context, so declaring or closing a disaster changes what readers may see:
the dashboards of every shelter are refreshed after commit (through the consent hook, the same
path a resident's changed consent takes). Closing a disaster also ends its legal-basis releases
(they are active only while their disaster is open; beat's `releases_end` writes the end down).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.errors import ApplicationError
from consent.services import consent_changed
from shelters.models import Disaster, User

DISASTER_NAME_MAX_LENGTH = 200


@transaction.atomic
def disaster_declare(*, name: str, actor: User | None) -> Disaster:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Give the disaster a name."), field="name")
    if len(name) > DISASTER_NAME_MAX_LENGTH or "\x00" in name:
        raise ApplicationError(_("At most %(max)d characters.") % {"max": DISASTER_NAME_MAX_LENGTH}, field="name")
    disaster = Disaster.objects.create(name=name, started_at=timezone.now(), declared_by=actor)
    audit_record(actor=actor, action="disaster.declared", object_type="disaster", object_id=disaster.pk)
    consent_changed(everyone=True)
    return disaster


@transaction.atomic
def disaster_close(*, disaster_id: int, actor: User | None) -> Disaster:
    """Close an open disaster (its row locked, so a release cannot be declared for it meanwhile)."""
    disaster = Disaster.objects.select_for_update().filter(pk=disaster_id).first()
    if disaster is None:
        raise ApplicationError(_("Unknown disaster."), field="disaster", code="not_found", status_code=404)
    if disaster.closed_at is not None:
        raise ApplicationError(
            _("This disaster is already closed."), field="disaster", code="conflict", status_code=409
        )
    disaster.closed_at = max(timezone.now(), disaster.started_at)
    disaster.save(update_fields=["closed_at"])
    audit_record(actor=actor, action="disaster.closed", object_type="disaster", object_id=disaster.pk)
    consent_changed(everyone=True)
    return disaster
