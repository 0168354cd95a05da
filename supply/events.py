"""Events about supplies (registered in the catalogue, realtime/catalogue.py), on the city stream
for HQ's supply board, which fetches the board again when one arrives:

- `supply.changed`: {"tasks": [task id, ...]}, supply tasks planned, moved or cancelled.
- `supply.overdue`: {"tasks": [task id, ...], "count": n}, tasks newly past their promised time.

A shelter hears of its own requests through `notification.created` (notifications/events.py).
"""

from typing import TypedDict

from realtime import catalogue


class SupplyChanged(TypedDict):
    tasks: list[int]


class SupplyOverdue(TypedDict):
    tasks: list[int]
    count: int


SUPPLY_CHANGED = catalogue.register(
    "supply.changed", SupplyChanged, streams=("city",), description="Supply tasks changed: HQ's board reloads."
)
SUPPLY_OVERDUE = catalogue.register(
    "supply.overdue", SupplyOverdue, streams=("city",), description="Supply tasks newly overdue: HQ's board reloads."
)
