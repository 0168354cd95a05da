from django.utils import timezone

from common.models import AuditEntry


def audit_record(*, actor, action: str, object_type: str, object_id, details: dict | None = None) -> None:
    """Record who wrote what. `details` holds ids and field names, never personal values."""
    AuditEntry.objects.create(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details or {},
        at=timezone.now(),
    )


def audit_records(*, actor, action: str, object_type: str, entries: dict) -> None:
    """Record the same action on several objects in one INSERT: {object_id: details}."""
    if not entries:
        return
    at = timezone.now()
    AuditEntry.objects.bulk_create(
        AuditEntry(actor=actor, action=action, object_type=object_type, object_id=str(pk), details=details or {}, at=at)
        for pk, details in entries.items()
    )
