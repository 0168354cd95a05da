"""Writes to the lists the admin configures: facilities a shelter may offer, kinds of support need.

Each write is audited; a change to the support categories goes to the live dashboards, whose
figures count people by category.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.errors import ApplicationError
from shelters import events
from shelters.models import Facility, Shelter, ShelterStatus, SupportCategory, User

FACILITY_FIELDS = frozenset({"code", "name", "name_en", "sort_order"})
SUPPORT_CATEGORY_FIELDS = frozenset({"code", "name", "name_en", "sort_order", "active"})


def _save(model, *, pk: int | None, fields: dict, allowed: frozenset, actor: User | None, action: str):
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(_("This field cannot be changed here."), field=sorted(unknown)[0])
    if pk is None:
        row = model.objects.create(**fields)
        changed = sorted(fields)
        verb = "create"
    else:
        row = model.objects.select_for_update().filter(pk=pk).first()
        if row is None:
            raise ApplicationError(_("Not found."), code="not_found", status_code=404)
        changed = sorted(name for name, value in fields.items() if getattr(row, name) != value)
        for name in changed:
            setattr(row, name, fields[name])
        if changed:
            row.save(update_fields=changed)
        verb = "update"
    if changed:
        audit_record(
            actor=actor, action=f"{action}.{verb}", object_type=action, object_id=row.pk, details={"fields": changed}
        )
    return row, changed


@transaction.atomic
def facility_save(*, facility_id: int | None, fields: dict, actor: User | None) -> Facility:
    """Create (no id) or change a facility."""
    facility, _changed = _save(
        Facility, pk=facility_id, fields=fields, allowed=FACILITY_FIELDS, actor=actor, action="facility"
    )
    return facility


@transaction.atomic
def facility_delete(*, facility_id: int, actor: User | None) -> None:
    """Remove a facility from the list and from every shelter that offered it."""
    deleted, _by_model = Facility.objects.filter(pk=facility_id).delete()
    if deleted:
        audit_record(actor=actor, action="facility.delete", object_type="facility", object_id=facility_id)


@transaction.atomic
def support_category_save(*, category_id: int | None, fields: dict, actor: User | None) -> SupportCategory:
    """Create (no id) or change a kind of support need; dashboards redraw their support figures."""
    category, changed = _save(
        SupportCategory,
        pk=category_id,
        fields=fields,
        allowed=SUPPORT_CATEGORY_FIELDS,
        actor=actor,
        action="support_category",
    )
    if changed:
        working = Shelter.objects.filter(status__in=(ShelterStatus.OPEN, ShelterStatus.FULL))
        events.shelters_changed(working.values_list("pk", flat=True))
    return category
