"""Collect what one transaction changed, and act on it once, after it commits.

A service that changes many shelters (a household check-in, an import of hundreds of answers) asks
for the transaction's collector and adds to it; the events go out once, when the transaction
commits, with the state as committed. Outside a transaction there is nothing to wait for: the
caller gets None and sends at once.
"""

from collections.abc import Callable
from typing import TypeVar

from django.db import transaction

T = TypeVar("T")

_flushers: dict[str, Callable[[], None]] = {}


def collector(key: str, *, factory: Callable[[], T], send: Callable[[T], None]) -> T | None:
    """This transaction's collector under `key` (made by `factory`), or None outside a transaction.

    `send(collected)` runs once when the transaction commits. After a rollback Django drops the
    on-commit callback but not the collector left on the connection, so a collector counts only
    while its callback is still registered.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    flush = _flushers.get(key)
    if flush is None:

        def flush():
            current = transaction.get_connection()
            pending = getattr(current, key, None)
            setattr(current, key, None)
            if pending is not None:
                collected, send_collected = pending
                send_collected(collected)

        _flushers[key] = flush
    pending = getattr(connection, key, None)
    if pending is None or not any(callback is flush for _, callback, _ in connection.run_on_commit):
        pending = (factory(), send)
        setattr(connection, key, pending)
        transaction.on_commit(flush, robust=True)
    return pending[0]
