"""Planning requests into supply tasks: grouping, allocation across depots, suppliers, dates."""

from datetime import timedelta

import pytest

from common.limits import INT32_MAX
from notifications.models import Notification
from supply import services
from supply.models import Leg, Request, RequestStatus, Stock, SupplyTask, Urgency
from tests.supply.conftest import MORNING, TOKYO


def file(shelter, item, quantity, user=None, urgency=Urgency.NORMAL):
    return services.request_create(shelter=shelter, item=item, actor=user, quantity=quantity, urgency=urgency)


def test_requests_for_one_item_at_one_shelter_become_one_task_with_a_promised_date(shelter_a, manager_a, water, stock):
    requests = [
        file(shelter_a, water, 10, manager_a),
        file(shelter_a, water, 5, manager_a),
        file(shelter_a, water, None),
    ]

    result = services.supply_plan_open_requests(now=MORNING)

    assert (result.requests_planned, result.tasks_created) == (3, 1)
    task = SupplyTask.objects.get()
    # A need without a number counts as one.
    assert (task.shelter, task.item, task.quantity, task.unsourced_quantity) == (shelter_a, water, 16, 0)
    # The depot next door: the 08:00 dispatch plus 30 minutes' loading.
    assert task.promised_at == MORNING.replace(hour=8, minute=30)
    assert {r.task_id for r in Request.objects.filter(pk__in=[r.pk for r in requests])} == {task.pk}
    assert set(Request.objects.values_list("status", flat=True)) == {RequestStatus.PLANNED}
    assert Stock.objects.get(pk=stock[("near", "water")].pk).reserved == 16


def test_requests_whose_sum_would_overflow_a_task_become_several_tasks(shelter_a, water, stock):
    big = INT32_MAX - 10
    file(shelter_a, water, big)
    file(shelter_a, water, big)
    file(shelter_a, water, 5)

    result = services.supply_plan_open_requests(now=MORNING)

    assert (result.requests_planned, result.tasks_created) == (3, 2)
    assert sorted(SupplyTask.objects.values_list("quantity", flat=True)) == [big, big + 5]


def test_the_shelter_is_told_the_promised_date_in_a_notification(shelter_a, water, stock):
    file(shelter_a, water, 10)

    services.supply_plan_open_requests(now=MORNING)

    notification = Notification.objects.get(shelter=shelter_a)
    assert notification.kind == "supply"
    assert "飲料水" in notification.body and "2026/11/24 8:30" in notification.body


def test_a_request_larger_than_the_nearest_depot_is_split_across_depots(shelter_a, water, stock):
    file(shelter_a, water, 50)

    services.supply_plan_open_requests(now=MORNING)

    task = SupplyTask.objects.get()
    legs = {leg.depot.code: leg for leg in task.legs.select_related("depot")}
    assert {code: leg.quantity for code, leg in legs.items()} == {"central": 30, "north": 20}
    # 18.1 km straight, 130 % by road at 30 km/h: 47 minutes, plus 30 minutes' loading.
    assert legs["north"].arrive_at - legs["north"].dispatch_at == pytest.approx(
        timedelta(minutes=77), abs=timedelta(minutes=1)
    )
    assert task.promised_at == legs["north"].arrive_at
    reserved = {s.depot.code: (s.on_hand, s.reserved) for s in Stock.objects.filter(item=water).select_related("depot")}
    assert reserved == {"central": (30, 30), "north": (100, 20)}


def test_what_no_depot_holds_is_bought_from_a_supplier_after_its_lead_time(shelter_a, blankets, stock, supplier):
    file(shelter_a, blankets, 8)

    services.supply_plan_open_requests(now=MORNING)

    task = SupplyTask.objects.get()
    legs = sorted((leg.depot_id is not None, leg.quantity) for leg in task.legs.all())
    assert legs == [(False, 3), (True, 5)]
    assert task.promised_at == MORNING + timedelta(hours=24, minutes=30)


def test_a_task_nobody_can_supply_waits_without_a_date_until_stock_arrives(shelter_a, blankets, stock, depots):
    file(shelter_a, blankets, 8)
    services.supply_plan_open_requests(now=MORNING)
    task = SupplyTask.objects.get()
    assert (task.unsourced_quantity, task.promised_at) == (3, None)

    services.stock_adjust(depot_id=depots[1].pk, item_id=blankets.pk, change=10, actor=None)
    services.supply_plan_open_requests(now=MORNING)

    task.refresh_from_db()
    assert task.unsourced_quantity == 0
    assert task.promised_at is not None
    assert sorted(task.legs.values_list("quantity", flat=True)) == [3, 5]
    assert SupplyTask.objects.count() == 1


def test_running_the_planner_again_creates_nothing_new(shelter_a, shelter_b, water, stock):
    file(shelter_a, water, 10)
    file(shelter_b, water, 10)
    services.supply_plan_open_requests(now=MORNING)

    again = services.supply_plan_open_requests(now=MORNING)

    assert (again.requests_planned, again.tasks_created) == (0, 0)
    assert SupplyTask.objects.count() == 2
    assert Stock.objects.get(pk=stock[("near", "water")].pk).reserved == 20


def test_the_most_urgent_request_gets_the_nearest_stock(shelter_a, shelter_b, water, stock):
    file(shelter_a, water, 30)
    file(shelter_b, water, 30, urgency=Urgency.CRITICAL)

    services.supply_plan_open_requests(now=MORNING)

    depot_of = {t.shelter_id: {leg.depot.code for leg in t.legs.all()} for t in SupplyTask.objects.all()}
    assert depot_of == {shelter_b.pk: {"central"}, shelter_a.pk: {"north"}}


def test_each_dispatch_takes_the_next_slot_of_the_depots_day(shelter_a, water, blankets, stock):
    file(shelter_a, water, 1)
    file(shelter_a, blankets, 1)

    services.supply_plan_open_requests(now=MORNING)

    assert sorted(leg.dispatch_at.astimezone(TOKYO).hour for leg in Leg.objects.all()) == [8, 9]
