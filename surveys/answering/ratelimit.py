"""A fixed-window counter in Django's cache (Redis in production), for the public survey form."""

from django.core.cache import cache


def allow(*, scope: str, ident: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for (scope, ident); False once the window holds more than `limit` hits."""
    key = f"ratelimit:{scope}:{ident}"
    # add() starts the window only if it has not started; incr() is atomic in Redis.
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:
        # The window expired between add() and incr(): this is the first hit of a new one.
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    return count <= limit
