"""A fixed-window counter in Django's cache (Redis in production), for the public survey form."""

from django.core.cache import cache
from redis.exceptions import RedisError


def allow(*, scope: str, ident: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for (scope, ident); False once the window holds more than `limit` hits.

    When Redis cannot be reached the answer is let through, as the API throttles do: during an
    outage residents answering matters more than counting (docs/operations.md).
    """
    try:
        return _hit(f"ratelimit:{scope}:{ident}", window_seconds) <= limit
    except (RedisError, OSError):
        return True


def _hit(key: str, window_seconds: int) -> int:
    # add() starts the window only if it has not started; incr() is atomic in Redis.
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)
    except ValueError:
        # The window expired between add() and incr(): this is the first hit of a new one.
        cache.set(key, 1, timeout=window_seconds)
        return 1
