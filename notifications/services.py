from datetime import datetime

from django.db import transaction
from django.utils import timezone

from notifications.events import NOTIFICATION_CREATED
from notifications.models import Notification
from realtime import broadcast


@transaction.atomic
def notification_create(
    *, shelter_id: int, kind: str, title: str, body: str = "", at: datetime | None = None
) -> Notification:
    """Post a message to a shelter's dashboard; it appears live once the transaction commits."""
    notification = Notification.objects.create(
        shelter_id=shelter_id, kind=kind, title=title, body=body, created_at=at or timezone.now()
    )
    data = notification.as_event_data()
    transaction.on_commit(
        lambda: broadcast.send(
            event_type=NOTIFICATION_CREATED, streams=[broadcast.shelter_stream(shelter_id)], data={"notification": data}
        ),
        robust=True,
    )
    return notification
