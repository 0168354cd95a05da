"""Removing supply rows of a source (sample data, a replay): see `common.sources`.

Runs first of all: requests refer to people, shelters and survey answers. A planned task gives
back the stock it reserved (through `supply_task_cancel`) before it goes; tasks further along were
sample movements of sample stock and are deleted with their legs.
"""

from django.db.models import Q

from common.sources import SourceRemoval
from supply.demo import supply_demo_load
from supply.models import Request, SupplyTask, TaskStatus
from supply.services import supply_task_cancel


def supply_rows_remove(removal: SourceRemoval) -> dict[str, int]:
    source = removal.source
    # The same answers the surveys remover takes: a request must not outlive its answer (PROTECT).
    mine = Q(source=source) | Q(evacuee__source=source) | Q(survey_response__source=source)
    if removal.shelters_go:
        mine |= Q(shelter__source=source) | Q(survey_response__shelter__source=source)
    requests = Request.objects.filter(mine)
    task_ids = set(requests.exclude(task=None).values_list("task_id", flat=True))
    task_ids |= set(SupplyTask.objects.filter(source=source).values_list("pk", flat=True))
    if removal.shelters_go:
        task_ids |= set(SupplyTask.objects.filter(shelter__source=source).values_list("pk", flat=True))
    for task_id in SupplyTask.objects.filter(pk__in=task_ids, status=TaskStatus.PLANNED).values_list("pk", flat=True):
        supply_task_cancel(task_id=task_id, actor=None)
    removed = requests.count()
    requests.delete()
    # A task that still holds requests of people who remain is kept.
    SupplyTask.objects.filter(pk__in=task_ids, requests__isnull=True).delete()
    return {"supply_requests": removed}


def supply_sample_load() -> dict[str, int]:
    loaded = supply_demo_load()
    return {"supply_depots": loaded["depots"], "supply_suppliers": loaded["suppliers"]}
