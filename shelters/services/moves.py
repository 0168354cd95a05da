"""What else moves when a person moves: a small, explicit registry of handlers.

A person's open follow-up case and open supply requests belong to the shelter where they stay.
`shelters` must not import `surveys` or `supply`, so those apps register a handler here from their
`AppConfig.ready()`; the stay services call `people_moved` inside their transaction, after the new
stays are written, so a handler's writes commit or roll back with the move. No Django signals: the
list of what happens on a move is this registry, and each handler is an ordinary service.

A move is a transfer (the old stay closes, a new one opens elsewhere) or a check-in (the person may
have left another shelter before: their cases come along). Handlers skip what is already at the
new shelter. Each handler also says, as an expression over a person's row, whether that person has
anything open it would move (`pending`): the check-in reads it with the row it locks anyway, and
calls the handlers only for people who have, so a first check-in costs them nothing.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from django.db.models import BooleanField, Expression, ExpressionWrapper, Q

from shelters.models import User


@dataclass(frozen=True)
class PeopleMoved:
    evacuee_ids: tuple[int, ...]
    to_shelter_id: int
    actor: User | None


PersonMovedHandler = Callable[[PeopleMoved], None]

person_moved_handlers: list[PersonMovedHandler] = []
# Per handler: () -> an expression, true for an Evacuee row with something open the handler moves.
_pending: dict[PersonMovedHandler, Callable[[], Expression]] = {}


def register_person_moved_handler(handler: PersonMovedHandler, *, pending: Callable[[], Expression]) -> None:
    """Called from an AppConfig.ready(); registering the same handler twice keeps one."""
    if handler not in person_moved_handlers:
        person_moved_handlers.append(handler)
    _pending[handler] = pending


def move_pending() -> Expression | None:
    """True for a person (an Evacuee row) with something open that would move with them; None when
    no handler is registered."""
    expressions = [_pending[handler]() for handler in person_moved_handlers]
    if not expressions:
        return None
    return ExpressionWrapper(reduce(operator.or_, (Q(expression) for expression in expressions)), BooleanField())


def people_moved(*, evacuee_ids, to_shelter_id: int, actor: User | None) -> None:
    move = PeopleMoved(evacuee_ids=tuple(evacuee_ids), to_shelter_id=to_shelter_id, actor=actor)
    for handler in person_moved_handlers:
        handler(move)
