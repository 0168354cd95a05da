"""What the planner and the overdue check send live: the shelter's notification with the promised
date, and HQ's supply board events on the city stream (in-memory channel layer)."""

import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from supply import services
from supply.models import SupplyTask
from tests import sockets
from tests.supply.conftest import MORNING

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def connect(path, user):
    communicator = await sockets.connect(path, user)
    await communicator.receive_from(timeout=2)  # the snapshot
    return communicator


async def events(communicator, timeout=1.0):
    """Every frame that arrives until the stream stays quiet for `timeout` seconds."""
    received = []
    while not await communicator.receive_nothing(timeout=timeout):
        received.append(json.loads(await communicator.receive_from()))
    return received


def test_planning_tells_the_shelter_its_dates_and_hq_which_tasks_changed(hq, manager_a, shelter_a, water, stock):
    services.request_create(shelter=shelter_a, item=water, actor=manager_a, quantity=12)

    async def body():
        shelter_socket = await connect(f"/ws/shelters/{shelter_a.pk}/", manager_a)
        city_socket = await connect("/ws/city/", hq)
        await database_sync_to_async(services.supply_plan_open_requests)(now=MORNING)
        heard = await events(shelter_socket, timeout=1), await events(city_socket, timeout=1)
        await shelter_socket.disconnect()
        await city_socket.disconnect()
        return heard

    at_shelter, at_hq = async_to_sync(body)()
    task = SupplyTask.objects.get()
    [notification] = [e for e in at_shelter if e["type"] == "notification.created"]
    assert notification["data"]["notification"]["kind"] == "supply"
    assert "2026/11/24 8:30" in notification["data"]["notification"]["body"]
    assert [e["data"] for e in at_hq if e["type"] == "supply.changed"] == [{"tasks": [task.pk]}]


def test_an_overdue_task_raises_a_live_alert_at_hq(hq, manager_a, shelter_a, water, stock):
    services.request_create(shelter=shelter_a, item=water, actor=manager_a, quantity=12)
    services.supply_plan_open_requests(now=MORNING)
    task = SupplyTask.objects.get()
    services.supply_task_dispatch(task_id=task.pk, actor=hq)

    async def body():
        city_socket = await connect("/ws/city/", hq)
        await database_sync_to_async(services.supply_check_overdue)(now=task.promised_at + timedelta(minutes=5))
        heard = await events(city_socket, timeout=1)
        await city_socket.disconnect()
        return heard

    heard = async_to_sync(body)()
    assert [e["data"] for e in heard if e["type"] == "supply.overdue"] == [{"tasks": [task.pk], "count": 1}]


def test_snapshot_and_events_of_a_request_and_its_planning_equal_a_fresh_snapshot(
    hq, manager_a, shelter_a, water, stock
):
    from tests.realtime.verify import Watcher, verify_action

    def request_and_plan():
        services.request_create(shelter=shelter_a, item=water, actor=manager_a, quantity=12)
        services.supply_plan_open_requests(now=MORNING)

    at_shelter, at_city = verify_action(
        request_and_plan,
        Watcher(manager_a, f"/ws/shelters/{shelter_a.pk}/"),
        # The board loads itself again over HTTP: the city's snapshot holds no supplies.
        Watcher(hq, "/ws/city/", changes=False),
    )

    assert [message["type"] for message in at_shelter] == ["notification.created"]
    assert [message["type"] for message in at_city] == ["supply.changed"]
