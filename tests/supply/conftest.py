from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from supply.models import Depot, Item, Stock, Supplier, SupplierItem

TOKYO = ZoneInfo("Asia/Tokyo")
# A Tuesday morning before the depots open.
MORNING = datetime(2026, 11, 24, 6, 0, tzinfo=TOKYO)


@pytest.fixture
def water(db):
    return Item.objects.get(code="water")


@pytest.fixture
def blankets(db):
    return Item.objects.get(code="blankets")


@pytest.fixture
def depots(db):
    """Two depots: one in the city centre (next to the test shelters), one 18 km north in Kitakata."""
    near = Depot.objects.create(
        code="central",
        name="中央備蓄倉庫",
        latitude="37.494700",
        longitude="139.929900",
        dispatches_per_day=10,
        dispatch_opens=time(8),
        dispatch_closes=time(18),
    )
    far = Depot.objects.create(
        code="north",
        name="北部備蓄倉庫",
        latitude="37.651300",
        longitude="139.874700",
        dispatches_per_day=10,
        dispatch_opens=time(8),
        dispatch_closes=time(18),
    )
    return near, far


@pytest.fixture
def stock(depots, water, blankets):
    near, far = depots
    return {
        ("near", "water"): Stock.objects.create(depot=near, item=water, on_hand=30),
        ("far", "water"): Stock.objects.create(depot=far, item=water, on_hand=100),
        ("near", "blankets"): Stock.objects.create(depot=near, item=blankets, on_hand=5),
    }


@pytest.fixture
def supplier(water, blankets):
    company = Supplier.objects.create(name="会津物流", latitude="37.494700", longitude="139.929900")
    SupplierItem.objects.create(supplier=company, item=blankets, lead_time_hours=24)
    return company
