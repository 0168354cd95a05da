"""The planner under real concurrency: threads with their own PostgreSQL connections."""

import pytest
from django.conf import settings
from django.db.models import Sum

from supply import services
from supply.models import Leg, Request, RequestStatus, Stock, SupplyTask
from tests.concurrency import run_together
from tests.factories import ShelterFactory
from tests.supply.conftest import MORNING

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
]


def assert_reservations_match_legs():
    for stock in Stock.objects.all():
        legged = Leg.objects.filter(depot=stock.depot, task__item=stock.item, task__status="planned").aggregate(
            total=Sum("quantity")
        )["total"]
        assert stock.reserved == (legged or 0)
        assert 0 <= stock.reserved <= stock.on_hand


def test_four_planners_at_once_plan_every_request_exactly_once(water, blankets, stock, supplier):
    shelters = [ShelterFactory() for _ in range(6)]
    for index in range(120):
        services.request_create(
            shelter=shelters[index % 6], item=water if index % 3 else blankets, actor=None, quantity=1 + index % 4
        )

    results = run_together(*[lambda: services.supply_plan_open_requests(now=MORNING, batch=25)] * 4)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.requests_planned for r in results) == 120
    assert not Request.objects.filter(status=RequestStatus.OPEN).exists()
    # Each task's quantity is its requests' quantities, and each request is in exactly one task.
    for task in SupplyTask.objects.prefetch_related("requests"):
        assert task.quantity == sum(r.quantity for r in task.requests.all())
        assert sum(task.legs.values_list("quantity", flat=True)) + task.unsourced_quantity == task.quantity
    assert (
        SupplyTask.objects.aggregate(total=Sum("quantity"))["total"]
        == Request.objects.aggregate(total=Sum("quantity"))["total"]
    )
    assert_reservations_match_legs()


def test_stock_taken_out_while_planners_run_never_goes_negative(depots, water, stock):
    shelters = [ShelterFactory() for _ in range(4)]
    for index in range(60):
        services.request_create(shelter=shelters[index % 4], item=water, actor=None, quantity=1)
    near = depots[0]

    def take_out():
        outcomes = []
        for _ in range(10):
            try:
                services.stock_adjust(depot_id=near.pk, item_id=water.pk, change=-3, actor=None)
                outcomes.append("taken")
            except Exception as error:
                outcomes.append(getattr(error, "code", repr(error)))
        return outcomes

    results = run_together(
        lambda: services.supply_plan_open_requests(now=MORNING, batch=10),
        lambda: services.supply_plan_open_requests(now=MORNING, batch=10),
        take_out,
    )

    assert not [r for r in results[:2] if isinstance(r, Exception)], results
    assert set(results[2]) <= {"taken", "busy", "negative_stock"}
    services.supply_plan_open_requests(now=MORNING)
    near_stock = Stock.objects.get(depot=near, item=water)
    assert near_stock.on_hand == 30 - 3 * results[2].count("taken")
    assert_reservations_match_legs()
    assert not SupplyTask.objects.filter(unsourced_quantity__gt=0).exists()
