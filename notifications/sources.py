"""Removing notifications with the rows of a source: see `common.sources`.

A notification has no source of its own; the ones posted to the source's shelters go (sample
shelters start afresh, replay shelters are deleted).
"""

from common.sources import SourceRemoval
from notifications.models import Notification


def notification_rows_remove(removal: SourceRemoval) -> dict[str, int]:
    removed, _by_model = Notification.objects.filter(shelter__source=removal.source).delete()
    return {"notifications": removed}
