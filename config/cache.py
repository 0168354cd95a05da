"""Django's Redis cache, failing at once while Redis is out instead of waiting on every call.

The cache holds the API throttles' and the public survey form's counters; their callers let a
request through when Redis cannot be reached (common/throttles.py, surveys/answering/ratelimit.py).
Each call still waited for the socket timeout first, on every API request; through the `cache`
circuit breaker (realtime/outage.py) only the first call of an outage waits.
"""

import functools

from django.core.cache.backends.redis import RedisCache

from realtime import outage


def _guarded(name: str):
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        return outage.CACHE.guard(lambda: method(self, *args, **kwargs))

    return guarded


class OutageAwareRedisCache(RedisCache):
    add = _guarded("add")
    get = _guarded("get")
    set = _guarded("set")
    touch = _guarded("touch")
    delete = _guarded("delete")
    get_many = _guarded("get_many")
    has_key = _guarded("has_key")
    incr = _guarded("incr")
    set_many = _guarded("set_many")
    delete_many = _guarded("delete_many")
    clear = _guarded("clear")
