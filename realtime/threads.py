"""Where the sockets' synchronous reads run: the thread pool, several at a time.

channels' `database_sync_to_async` runs, by default (thread_sensitive), on the ONE thread that all
of the process's synchronous code shares, one call after another. A wall of dashboards connecting
at once then queues every socket's session, user, permission and snapshot reads behind each
other, each mostly waiting on a PostgreSQL or Redis round trip: 1,000 dashboards took over 30 s to
connect at city scale (docs/performance.md, "City scale"). These reads keep no state between
calls and hold no transaction, so they run in the thread pool instead, in parallel, each closing
its database connection when it is done, whatever its age (back to the pool: a pool thread that
kept one would hold it until the thread ends)."""

import functools

from asgiref.sync import sync_to_async
from django.db import connections


def in_pool(function):
    """`function` as an awaitable run in the thread pool (see the module)."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run, thread_sensitive=False)
