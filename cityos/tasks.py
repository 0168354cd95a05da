"""Beat jobs talking to the City OS: the opt-in of the people staying in shelters, and the count of
residents outside the shelters per area (for the HQ dashboard)."""

from celery import shared_task
from django.conf import settings

from access import city_os, consent
from cityos import cache, client, locations, sync
from consent.rules import Context

# Where the last batch stopped, so successive runs go round everyone staying (lost with the cache:
# then the next run starts from the beginning again, which is only repeated work).
SYNC_CURSOR_KEY = "cityos:consents-sync:after"


@shared_task(name="cityos.consents_sync_staying")
def consents_sync_staying(batch: int | None = None) -> dict:
    """Apply the City OS opt-in of up to `batch` people staying in shelters (CITYOS_SYNC_BATCH),
    continuing after the last run's; stops at the first City OS outage (the next run retries)."""
    batch = max(1, min(int(batch or settings.CITYOS_SYNC_BATCH), 1000))
    after = int(cache.get(SYNC_CURSOR_KEY) or 0)
    people = city_os.city_os_ids_staying(after_id=after, limit=batch)
    if not people and after:
        after = 0
        people = city_os.city_os_ids_staying(after_id=0, limit=batch)
    checked = applied = 0
    for evacuee_id, city_os_id in people:
        try:
            result = sync.consents_sync(city_os_id=city_os_id)
        except client.CityOSRefused:
            result = None  # the City OS does not know them (any more): nothing to apply
        except client.CityOSUnavailable:
            break
        checked += 1
        applied += bool(result and result.applied)
        after = evacuee_id
    cache.put(SYNC_CURSOR_KEY, after, timeout=24 * 60 * 60)
    return {"checked": checked, "applied": applied}


@shared_task(name="cityos.location_counts_refresh")
def location_counts_refresh() -> bool:
    """Fetch the residents outside the shelters per area into the cache, for the HQ dashboard, which
    shows them during a disaster only (no call to the City OS in peacetime)."""
    if consent.current_context() != Context.DISASTER:
        return False
    return locations.area_counts_refresh().available
