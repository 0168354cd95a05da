"""What notifications add to a shelter's live stream (realtime/streams.py): its latest messages."""

from notifications.models import Notification
from realtime import streams

SHOWN = 50


def shelter_part(shelter_id: int) -> dict:
    """The same for everyone who may watch the shelter: a shared part."""
    notifications = Notification.objects.filter(shelter_id=shelter_id).order_by("-created_at", "-id")[:SHOWN]
    return {"notifications": [n.as_event_data() for n in notifications]}


streams.add_shared_snapshot_part("shelter", shelter_part)
