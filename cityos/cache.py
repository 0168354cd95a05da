"""The cache as the City OS jobs keep things in it: nothing there is needed (the counts are asked
again, a sync cursor starts over), so while Redis is out a read finds nothing and a write keeps
nothing. The outage-aware cache (config/cache.py) raises at once then, instead of waiting."""

import contextlib

from django.core.cache import cache

from realtime.outage import OUTAGE_ERRORS


def get(key: str):
    """The value kept under `key`, or None (none kept, or Redis out)."""
    try:
        return cache.get(key)
    except OUTAGE_ERRORS:
        return None


def put(key: str, value, *, timeout: int) -> None:
    """Keep `value` under `key` for `timeout` seconds, unless Redis is out."""
    with contextlib.suppress(*OUTAGE_ERRORS):
        cache.set(key, value, timeout=timeout)
