"""Events about notifications (registered in the catalogue, realtime/catalogue.py):

- `notification.created` on a shelter's stream: {"notification": NotificationData}. A message for
  the shelter's dashboard (a promised delivery date, a survey follow-up): no personal data, since
  officials may watch a shelter's stream.
"""

from typing import TypedDict

from realtime import catalogue


class NotificationData(TypedDict):
    id: int
    shelter: int
    kind: str
    kind_label: str
    title: str
    body: str
    created_at: str  # ISO


class NotificationCreated(TypedDict):
    notification: NotificationData


NOTIFICATION_CREATED = catalogue.register(
    "notification.created",
    NotificationCreated,
    streams=("shelter",),
    description="A new message on a shelter's dashboard.",
)
