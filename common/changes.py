"""What the services behind the admin's forms share: refuse the fields a form may not set, apply
only what changed, and audit the names of the fields changed (never their values)."""

from collections.abc import Collection, Iterable

from django.db import models
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.errors import ApplicationError


def refuse_unknown_fields(fields: Iterable[str], allowed: Collection[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ApplicationError(_("This field cannot be changed here."), field=sorted(unknown)[0])


def apply_changes(row: models.Model, changes: dict) -> list[str]:
    """Set on `row` the values that differ from its own; returns their names, sorted. Saves nothing."""
    changed = sorted(name for name, value in changes.items() if getattr(row, name) != value)
    for name in changed:
        setattr(row, name, changes[name])
    return changed


def pks(values: Iterable) -> set[int]:
    """Primary keys of rows or of the keys themselves, as a form's many-to-many value may hold either."""
    return {getattr(value, "pk", value) for value in values}


def row_save(
    model: type[models.Model],
    *,
    pk: int | None,
    fields: dict,
    allowed: Collection[str],
    actor,
    action: str,
    object_type: str,
) -> tuple[models.Model, list[str]]:
    """Create (no `pk`) or change one row of a simple list, under its row lock; audited as
    `<action>.create` / `<action>.update` with the fields changed. Call it inside a transaction."""
    refuse_unknown_fields(fields, allowed)
    if pk is None:
        row = model.objects.create(**fields)
        changed = sorted(fields)
    else:
        row = model.objects.select_for_update().filter(pk=pk).first()
        if row is None:
            raise ApplicationError(_("Not found."), code="not_found", status_code=404)
        changed = apply_changes(row, fields)
        if changed:
            row.save(update_fields=changed)
    if changed:
        audit_record(
            actor=actor,
            action=f"{action}.{'create' if pk is None else 'update'}",
            object_type=object_type,
            object_id=row.pk,
            details={"fields": changed},
        )
    return row, changed
