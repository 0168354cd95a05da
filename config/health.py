"""`/healthz`: can this process serve? For the launcher (config/launcher.py) and load balancers.

Anyone may ask, so it says only what an outsider could learn by trying: no address, no version, no
person. 200 while the database answers; 503 when it does not within `TIMEOUT_SECONDS` (a wedged
process: restarting it, or sending traffic elsewhere, helps). Redis out is 200 "degraded": the
site serves without live events (realtime/outage.py) and a restart would not bring Redis back.
"""

import time

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from realtime import outage

TIMEOUT_SECONDS = 2.0


def _database_answers() -> bool:
    pool = getattr(connection, "pool", None)
    try:
        if pool is not None:
            # Straight from the pool, with a short wait: a pool that has no connection to give is
            # exactly what makes the process unable to serve. Django opens the pool on its first
            # query; a daphne that serves only sockets may not have made one yet.
            pool.open()
            with pool.connection(timeout=TIMEOUT_SECONDS) as raw:
                raw.execute("SELECT 1")
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
    except Exception:
        return False
    return True


@never_cache
@require_GET
def healthz(request):
    started = time.monotonic()
    database = _database_answers()
    redis_ok = outage.redis_ping()
    body = {
        "status": "ok" if database and redis_ok else ("degraded" if database else "unavailable"),
        "database": "ok" if database else "unavailable",
        "redis": "ok" if redis_ok else "unavailable",
        **outage.states(),  # events, tasks, cache: open or closed, and what each dropped
        "seconds": round(time.monotonic() - started, 3),
    }
    return JsonResponse(body, status=200 if database else 503)
