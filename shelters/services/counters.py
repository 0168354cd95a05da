"""The shelters' live figures, kept as counters on the shelter's row.

Occupancy, the outside count, the people needing support and the people per support need change in
the same transaction as the stays they count, by one `UPDATE … RETURNING` that takes the shelter's
row lock and hands back the shelter's new state: the event after commit is built from it, so
nothing is read again, and nothing is ever counted over a shelter's (or the city's) people on a hot
path. `shelter_counts_recount` (services/stays.py) sets them from the stays when rows were removed.

A person moves the counters by `Figures`: where they stay (inside or out), whether they need
support (a support need, or listed as 避難行動要支援者), and their needs' codes. The codes are read
from `Evacuee.support_codes`, the copy of their SupportNeed rows on their own row, which changes
only under the lock of the shelter where they stay (`evacuee_update`).
"""

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from access.policy import is_headquarters
from shelters.models import Shelter, StayMode, User
from shelters.selectors import STATE_COLUMNS

ACCEPTING = ("open", "full")  # ShelterStatus.OPEN, FULL: the statuses that take check-ins


@dataclass(frozen=True)
class Figures:
    """How much a set of stays moves a shelter's counters (negative when they leave)."""

    inside: int = 0
    outside: int = 0
    support_people: int = 0
    support: Mapping[str, int] = field(default_factory=dict)

    def __neg__(self) -> "Figures":
        return Figures(
            inside=-self.inside,
            outside=-self.outside,
            support_people=-self.support_people,
            support={code: -people for code, people in self.support.items()},
        )

    def __add__(self, other: "Figures") -> "Figures":
        support = Counter(self.support)
        support.update(other.support)
        return Figures(
            inside=self.inside + other.inside,
            outside=self.outside + other.outside,
            support_people=self.support_people + other.support_people,
            support={code: people for code, people in support.items() if people},
        )

    def __bool__(self) -> bool:
        return bool(self.inside or self.outside or self.support_people or any(self.support.values()))


def codes_of(support_codes: str) -> list[str]:
    return [code for code in support_codes.split(",") if code]


def figures_of(people: Iterable[tuple[str, bool, str]]) -> Figures:
    """The figures of stays given as (mode, requires_evacuation_support, support_codes)."""
    inside = outside = needing = 0
    support: Counter = Counter()
    for mode, requires_support, support_codes in people:
        if mode == StayMode.INSIDE:
            inside += 1
        else:
            outside += 1
        codes = codes_of(support_codes)
        if codes or requires_support:
            needing += 1
        support.update(codes)
    return Figures(inside=inside, outside=outside, support_people=needing, support=dict(support))


def _support_counts_sql(support: Mapping[str, int]) -> tuple[str, list]:
    """SQL adding `support`'s numbers to the JSON object of counts, on this database."""
    params: list = []
    if connection.vendor == "postgresql":
        pairs = []
        for code, people in sorted(support.items()):
            pairs.append("%s::text, COALESCE((support_counts ->> %s)::integer, 0) + %s")
            params += [code, code, people]
        return f"COALESCE(support_counts, '{{}}'::jsonb) || jsonb_build_object({', '.join(pairs)})", params
    # SQLite keeps JSON as text; json_set writes each key, the path quoted as a JSON key.
    pairs = []
    for code, people in sorted(support.items()):
        pairs.append("'$.\"' || %s || '\"', COALESCE(json_extract(support_counts, '$.\"' || %s || '\"'), 0) + %s")
        params += [code, code, people]
    return f"json_set(COALESCE(support_counts, '{{}}'), {', '.join(pairs)})", params


def shelter_figures_move(
    shelter_id: int,
    figures: Figures,
    *,
    at: datetime,
    accepting_only: bool = False,
    operator: User | None = None,
) -> dict | None:
    """Move the shelter's counters by `figures` and bump its version, locking its row; its new
    state (STATE_COLUMNS), or None when no row matched: the shelter is gone, or (with
    `accepting_only`) does not take check-ins, or (with `operator`) is not one they operate.

    The caller holds a transaction; the lock lasts until it ends.
    """
    table = Shelter._meta.db_table
    assignments = [
        "occupancy = occupancy + %s",
        "outside_count = outside_count + %s",
        "support_people = support_people + %s",
        "version = version + 1",
        "updated_at = %s",
    ]
    params: list = [figures.inside, figures.outside, figures.support_people, _datetime_param(at)]
    support = {code: people for code, people in figures.support.items() if people}
    if support:
        sql, support_params = _support_counts_sql(support)
        assignments.append(f"support_counts = {sql}")
        params += support_params
    conditions = ["id = %s"]
    params.append(shelter_id)
    if accepting_only:
        conditions.append("status IN (%s, %s)")
        params += list(ACCEPTING)
    if operator is not None and not is_headquarters(operator):
        managed = User.managed_shelters.through._meta.db_table
        conditions.append(f"EXISTS (SELECT 1 FROM {managed} m WHERE m.user_id = %s AND m.shelter_id = {table}.id)")
        params.append(operator.pk)
    sql = (
        f"UPDATE {table} SET {', '.join(assignments)} WHERE {' AND '.join(conditions)} "
        f"RETURNING {', '.join(STATE_COLUMNS)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    state = dict(zip(STATE_COLUMNS, row, strict=True))
    if isinstance(state["support_counts"], str):
        state["support_counts"] = json.loads(state["support_counts"])
    state["support_counts"] = state["support_counts"] or {}
    return state


def _datetime_param(at: datetime):
    return connection.ops.adapt_datetimefield_value(at)
