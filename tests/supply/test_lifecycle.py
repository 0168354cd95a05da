"""A supply task's life: planned → dispatched → delivered → received, cancellation, stock changes
and missed dates."""

from datetime import timedelta

import pytest

from common.errors import ApplicationError
from notifications.models import Notification
from supply import services
from supply.models import Request, RequestOrigin, RequestStatus, Stock, SupplyTask, TaskStatus
from tests.supply.conftest import MORNING


@pytest.fixture
def planned(shelter_a, manager_a, water, stock):
    services.request_create(shelter=shelter_a, item=water, actor=manager_a, quantity=40)
    services.supply_plan_open_requests(now=MORNING)
    return SupplyTask.objects.get()


def water_stock():
    return {
        s.depot.code: (s.on_hand, s.reserved) for s in Stock.objects.filter(item__code="water").select_related("depot")
    }


def test_dispatch_takes_the_reserved_stock_off_the_shelves(planned, hq):
    services.supply_task_dispatch(task_id=planned.pk, actor=hq)

    planned.refresh_from_db()
    assert planned.status == TaskStatus.DISPATCHED
    assert water_stock() == {"central": (0, 0), "north": (90, 0)}
    assert set(Request.objects.values_list("status", flat=True)) == {RequestStatus.DISPATCHED}
    assert Notification.objects.filter(shelter=planned.shelter, title__startswith="配送中").count() == 1


def test_a_full_delivery_received_closes_the_requests(planned, hq, manager_a):
    services.supply_task_dispatch(task_id=planned.pk, actor=hq)
    services.supply_task_deliver(task_id=planned.pk, actor=hq)
    services.supply_task_receive(task_id=planned.pk, quantity=40, actor=manager_a)

    planned.refresh_from_db()
    assert (planned.status, planned.received_quantity) == (TaskStatus.RECEIVED, 40)
    assert set(Request.objects.values_list("status", flat=True)) == {RequestStatus.RECEIVED}


def test_a_short_delivery_requests_the_rest_again_and_the_planner_plans_it(planned, hq, manager_a):
    services.supply_task_dispatch(task_id=planned.pk, actor=hq)
    services.supply_task_receive(task_id=planned.pk, quantity=25, actor=manager_a)

    rest = Request.objects.get(status=RequestStatus.OPEN)
    assert (rest.quantity, rest.origin, rest.shelter_id) == (15, RequestOrigin.SHORT_DELIVERY, planned.shelter_id)
    services.supply_plan_open_requests(now=MORNING)
    rest.refresh_from_db()
    assert rest.task.quantity == 15 and rest.task.promised_at is not None


def test_cancelling_a_planned_task_gives_its_stock_back(planned, hq):
    services.supply_task_cancel(task_id=planned.pk, actor=hq)

    planned.refresh_from_db()
    assert planned.status == TaskStatus.CANCELLED
    assert water_stock() == {"central": (30, 0), "north": (100, 0)}
    assert not planned.legs.exists()
    assert set(Request.objects.values_list("status", flat=True)) == {RequestStatus.CANCELLED}


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], "deliver"),
        (["dispatch"], "dispatch"),
        (["dispatch"], "cancel"),
        (["cancel"], "dispatch"),
    ],
)
def test_a_step_out_of_order_is_refused(planned, hq, steps, refused):
    actions = {
        "dispatch": services.supply_task_dispatch,
        "deliver": services.supply_task_deliver,
        "cancel": services.supply_task_cancel,
    }
    for step in steps:
        actions[step](task_id=planned.pk, actor=hq)
    with pytest.raises(ApplicationError) as refusal:
        actions[refused](task_id=planned.pk, actor=hq)
    assert refusal.value.code == "wrong_status"


def test_receiving_more_than_was_sent_is_refused(planned, hq, manager_a):
    services.supply_task_dispatch(task_id=planned.pk, actor=hq)
    with pytest.raises(ApplicationError) as refusal:
        services.supply_task_receive(task_id=planned.pk, quantity=41, actor=manager_a)
    assert refusal.value.field == "quantity"


def test_stock_never_goes_below_zero(depots, water, stock):
    with pytest.raises(ApplicationError) as refusal:
        services.stock_adjust(depot_id=depots[0].pk, item_id=water.pk, change=-31, actor=None)
    assert refusal.value.code == "negative_stock"
    assert water_stock()["central"] == (30, 0)


def test_stock_taken_out_below_what_is_reserved_re_plans_the_task(planned, depots, water):
    services.stock_adjust(depot_id=depots[0].pk, item_id=water.pk, change=-20, actor=None)

    planned.refresh_from_db()
    assert (planned.unsourced_quantity, planned.promised_at) == (30, None)
    assert water_stock() == {"central": (10, 0), "north": (100, 10)}

    services.supply_plan_open_requests(now=MORNING)

    planned.refresh_from_db()
    assert planned.unsourced_quantity == 0 and planned.promised_at is not None
    assert sum(planned.legs.values_list("quantity", flat=True)) == 40
    assert water_stock() == {"central": (10, 10), "north": (100, 30)}


def test_a_task_that_missed_its_date_without_leaving_is_planned_again_and_flagged(planned):
    late = planned.promised_at + timedelta(minutes=1)

    result = services.supply_check_overdue(now=late)

    planned.refresh_from_db()
    assert result.replanned == [planned.pk] and result.flagged == [planned.pk]
    assert planned.overdue_since == late
    assert planned.promised_at > late
    assert planned.replan_count == 1
    assert sum(planned.legs.values_list("quantity", flat=True)) == 40
    assert water_stock() == {"central": (30, 30), "north": (100, 10)}


def test_a_dispatched_task_past_its_date_is_flagged_once(planned, hq):
    services.supply_task_dispatch(task_id=planned.pk, actor=hq)
    late = planned.promised_at + timedelta(minutes=1)

    first = services.supply_check_overdue(now=late)
    second = services.supply_check_overdue(now=late + timedelta(minutes=5))

    assert (first.flagged, second.flagged) == ([planned.pk], [])
    planned.refresh_from_db()
    assert planned.overdue_since == late and planned.status == TaskStatus.DISPATCHED
