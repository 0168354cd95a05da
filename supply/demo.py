"""Sample supply master data for Aizuwakamatsu: stockpile depots, their stock, and suppliers.

The depot names and places are made up (near real districts), the figures are sample figures.
`supply_demo_load()` is idempotent: depots and suppliers are keyed by code and name, and stock is
only set where a depot has none of an item yet.
"""

from datetime import time

from django.db import transaction

from supply.models import Depot, Item, Stock, Supplier, SupplierItem

# code, name, latitude, longitude, deliveries a day
DEPOTS = [
    ("central", "中央防災備蓄倉庫（サンプル）", "37.494700", "139.929900", 40),
    ("kitaaizu", "北会津備蓄倉庫（サンプル）", "37.501400", "139.871800", 20),
    ("minato", "湊備蓄倉庫（サンプル）", "37.454300", "140.023100", 12),
    ("kawahigashi", "河東備蓄倉庫（サンプル）", "37.558800", "139.988600", 16),
]

# Stock per depot for every item, scaled by the depot's size (its deliveries a day).
STOCK_PER_DELIVERY = {
    "water": 60,
    "food": 80,
    "infant_formula": 4,
    "diapers": 20,
    "adult_diapers": 10,
    "medicine": 3,
    "hygiene": 10,
    "sanitary_items": 8,
    "blankets": 15,
    "cardboard_beds": 3,
    "partitions": 2,
    "portable_toilets": 40,
    "masks": 100,
    "batteries": 10,
    "clothing": 5,
}

# name, latitude, longitude, {item code: lead time in hours}
SUPPLIERS = [
    (
        "会津流通センター（サンプル）",
        "37.523000",
        "139.915000",
        {"water": 24, "food": 24, "hygiene": 36, "masks": 24, "batteries": 24, "portable_toilets": 36},
    ),
    (
        "郡山医療物流（サンプル）",
        "37.400600",
        "140.359700",
        {"medicine": 12, "infant_formula": 24, "diapers": 24, "adult_diapers": 24, "sanitary_items": 24},
    ),
    (
        "東北段ボール工業（サンプル）",
        "37.760800",
        "140.473600",
        {"cardboard_beds": 48, "partitions": 48, "blankets": 72, "clothing": 72},
    ),
]


@transaction.atomic
def supply_demo_load() -> dict[str, int]:
    items = {item.code: item for item in Item.objects.all()}
    depots = []
    for code, name, latitude, longitude, per_day in DEPOTS:
        depot, _ = Depot.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "latitude": latitude,
                "longitude": longitude,
                "dispatches_per_day": per_day,
                "dispatch_opens": time(7),
                "dispatch_closes": time(19),
            },
        )
        depots.append(depot)
    for depot in depots:
        for code, per_delivery in STOCK_PER_DELIVERY.items():
            if code in items:
                Stock.objects.get_or_create(
                    depot=depot, item=items[code], defaults={"on_hand": per_delivery * depot.dispatches_per_day}
                )
    for name, latitude, longitude, lead_times in SUPPLIERS:
        supplier, _ = Supplier.objects.get_or_create(name=name, defaults={"latitude": latitude, "longitude": longitude})
        for code, hours in lead_times.items():
            if code in items:
                SupplierItem.objects.get_or_create(
                    supplier=supplier, item=items[code], defaults={"lead_time_hours": hours}
                )
    return {"depots": len(depots), "suppliers": len(SUPPLIERS)}
