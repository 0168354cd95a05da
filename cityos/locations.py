"""Residents outside the shelters who share their location, counted per area by the City OS, kept
briefly in the cache for the HQ dashboard. Counts only: the City OS never sends a position here.

The page never waits for the City OS longer than CITYOS_LOCATION_WAIT_SECONDS: it reads the cache
(filled by beat, cityos.tasks.location_counts_refresh, or by the page itself); on a miss it asks the
City OS in a background thread (one fetch at a time for the whole process) and waits that long at
most. A failure is cached too, for a shorter time, so a City OS that is down costs one wait, not
one per page.
"""

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from cityos import cache, client

logger = logging.getLogger(__name__)

CACHE_KEY = "cityos:location-counts"


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    count: int


@dataclass(frozen=True)
class AreaCounts:
    available: bool
    areas: list[Area] = field(default_factory=list)
    as_of: datetime | None = None

    @property
    def total(self) -> int:
        return sum(area.count for area in self.areas)


UNAVAILABLE = AreaCounts(available=False)

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cityos-location")
_lock = threading.Lock()
_in_flight: Future | None = None


def _from_cached(value: dict) -> AreaCounts:
    if not value.get("available"):
        return UNAVAILABLE
    return AreaCounts(
        available=True,
        areas=[Area(code=a["code"], name=a["name"], count=a["count"]) for a in value["areas"]],
        as_of=datetime.fromisoformat(value["as_of"]) if value.get("as_of") else None,
    )


def area_counts_refresh() -> AreaCounts:
    """Ask the City OS now and keep the answer (or that it did not answer) in the cache."""
    try:
        counts = client.location_counts()
    except client.CityOSError as error:
        logger.info("City OS location counts unavailable: %s", type(error).__name__)
        cache.put(CACHE_KEY, {"available": False}, timeout=settings.CITYOS_LOCATION_RETRY_SECONDS)
        return UNAVAILABLE
    as_of = max((area.as_of for area in counts), default=timezone.now())
    value = {
        "available": True,
        "as_of": as_of.isoformat(),
        "areas": [{"code": a.code, "name": a.name, "count": a.count} for a in counts],
    }
    cache.put(CACHE_KEY, value, timeout=settings.CITYOS_LOCATION_CACHE_SECONDS)
    return _from_cached(value)


def area_counts(*, wait_seconds: float | None = None) -> AreaCounts:
    """The cached counts, or the City OS's answer within `wait_seconds` (else: unavailable)."""
    global _in_flight
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return _from_cached(cached)
    with _lock:
        if _in_flight is None or _in_flight.done():
            _in_flight = _executor.submit(area_counts_refresh)
        future = _in_flight
    wait = settings.CITYOS_LOCATION_WAIT_SECONDS if wait_seconds is None else wait_seconds
    try:
        return future.result(timeout=wait)
    except FutureTimeout:
        return UNAVAILABLE
