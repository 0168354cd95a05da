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
