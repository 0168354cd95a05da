"""Snapshot + events = fresh snapshot for a notification (tests/realtime/verify.py)."""

import pytest

from notifications.services import notification_create
from tests.realtime.verify import Watcher, verify_action

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_notification_as_its_shelters_manager_and_an_official_see_it(manager_a, official, shelter_a):
    heard = verify_action(
        lambda: notification_create(shelter_id=shelter_a.pk, kind="supply", title="飲料水 2L × 48 本: 明日到着予定"),
        Watcher(manager_a, f"/ws/shelters/{shelter_a.pk}/"),
        Watcher(official, f"/ws/shelters/{shelter_a.pk}/"),
    )

    assert [[message["type"] for message in messages] for messages in heard] == [["notification.created"]] * 2
