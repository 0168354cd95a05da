"""The record of reads: who looked at which person, when and why. Written only from `access`.

A list records one row per person shown, in one INSERT; a detail one row. The purpose names the
page, endpoint or stream (`page.evacuee_detail`, `api.evacuee_list`, `socket.support_list`), so a
resident can later be told who looked at their data and what for.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.utils import timezone

from access.models import PersonalDataAccess
from common.roles import role_of

# A page that embeds what a stream would send (the shelter dashboard's first snapshot) records
# those reads under its own purpose, not the stream's.
_purpose_for_reads: ContextVar[str | None] = ContextVar("purpose_for_reads", default=None)


@contextmanager
def reads_for(purpose: str) -> Iterator[None]:
    """Record every read inside the block under `purpose`."""
    token = _purpose_for_reads.set(purpose)
    try:
        yield
    finally:
        _purpose_for_reads.reset(token)


@dataclass(frozen=True)
class Read:
    """One person shown: the basis the read had and the categories shown (`access.consent`)."""

    evacuee_id: int
    basis: str = ""
    release_id: int | None = None
    categories: str = ""


def record_reads(
    *, viewer, reads: Iterable[Read], purpose: str, shelter_id: int | None = None, role: str | None = None
) -> None:
    """One row per person shown (the first read of each), bulk-written; nothing when nobody was.

    The reader's role (theirs, unless `role` says otherwise) and shelter go with each row, so the
    resident sees which role at which shelter or office looked; a manager of one shelter is at it.
    """
    purpose = _purpose_for_reads.get() or purpose
    by_person = {}
    for read in reads:
        by_person.setdefault(read.evacuee_id, read)
    if not by_person:
        return
    if role is None:
        role = role_of(viewer) or ""
    if shelter_id is None:
        managed = getattr(viewer, "_managed_shelter_ids", None)
        if managed is not None and len(managed) == 1:
            shelter_id = next(iter(managed))
    now = timezone.now()
    viewer = viewer if getattr(viewer, "is_authenticated", False) else None
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(
            viewer=viewer,
            evacuee_id=read.evacuee_id,
            purpose=purpose,
            at=now,
            role=role,
            shelter_id=shelter_id,
            basis=read.basis,
            release_id=read.release_id,
            categories=read.categories,
        )
        for read in by_person.values()
    )
