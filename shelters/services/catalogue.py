"""Writes to the lists the admin configures: facilities a shelter may offer, kinds of support need.

Each write is audited; a change to the support categories goes to the live dashboards, whose
figures count people by category.
"""

from django.db import transaction

from common.audit import audit_record
from common.changes import row_save
from shelters import events
from shelters.models import Facility, Shelter, ShelterStatus, SupportCategory, User

FACILITY_FIELDS = frozenset({"code", "name", "name_en", "sort_order"})
SUPPORT_CATEGORY_FIELDS = frozenset({"code", "name", "name_en", "sort_order", "active"})


@transaction.atomic
def facility_save(*, facility_id: int | None, fields: dict, actor: User | None) -> Facility:
    """Create (no id) or change a facility."""
    facility, _changed = row_save(
        Facility,
        pk=facility_id,
        fields=fields,
        allowed=FACILITY_FIELDS,
        actor=actor,
        action="facility",
        object_type="facility",
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
    category, changed = row_save(
        SupportCategory,
        pk=category_id,
        fields=fields,
        allowed=SUPPORT_CATEGORY_FIELDS,
        actor=actor,
        action="support_category",
        object_type="support_category",
    )
    if changed:
        working = Shelter.objects.filter(status__in=(ShelterStatus.OPEN, ShelterStatus.FULL))
        events.shelters_changed(working.values_list("pk", flat=True))
    return category
