"""Every HTTP request gives its database connections back, whatever became of the request.

Under ASGI, Django runs a request's synchronous code (middleware, views) in a thread of its own
(asgiref's `ThreadSensitiveContext`, one single-thread executor per request), and database
connections belong to the thread that opened them. Django returns them in `request_finished`,
which it sends through that same executor after the response. When the client hangs up while a
view waits (on a row lock, on Redis), Django cancels the request's task and daphne, after its
application close timeout, cancels the whole application instance; neither can stop the thread,
which finishes the view later, but the `request_finished` job queued behind it is cancelled with
the task. The connection stays checked out of the pool for good (psycopg's pool never learns that
its thread is gone), and after `DB_POOL_MAX_SIZE` such requests every request waits for a
connection that never comes.

`ConnectionsReturned` gives each request its executor and, when the request ends for any reason,
queues one last job on it: closing the thread's connections. The executor runs one job at a time
in order, so that job runs in the request's own thread right after whatever the thread is still
doing, and nothing can cancel it. Django's own handler then finds the context set and uses it.
"""

from concurrent.futures import Future, ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.db import connections


class _RequestThread(ThreadPoolExecutor):
    """The one thread a request's synchronous code runs in (started by its first job)."""

    def __init__(self):
        super().__init__(max_workers=1, thread_name_prefix="request")
        self.used = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        self.used = True
        return super().submit(fn, *args, **kwargs)

    def finish(self) -> None:
        """Close the thread's connections after its last job, then let the thread end; don't wait."""
        if self.used:
            super().submit(connections.close_all)
        self.shutdown(wait=False)


class ConnectionsReturned:
    """ASGI wrapper around Django's HTTP handler (config/asgi.py)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        thread = _RequestThread()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.app(scope, receive, send)
        finally:
            thread.finish()
