"""The record of reads: who looked at which person, when and why. Written only from `access`.

A list records one row per person shown, in one INSERT; a detail one row. The purpose names the
page, endpoint or stream (`page.evacuee_detail`, `api.evacuee_list`, `socket.support_list`), so a
resident can later be told who looked at their data and what for.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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


def record_reads(*, viewer, evacuee_ids: Iterable[int | None], purpose: str) -> None:
    """One row per distinct person, bulk-written; nothing at all when nobody was shown."""
    purpose = _purpose_for_reads.get() or purpose
    ids = list(dict.fromkeys(i for i in evacuee_ids if i is not None))
    if not ids:
        return
    now = timezone.now()
    viewer = viewer if getattr(viewer, "is_authenticated", False) else None
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(viewer=viewer, evacuee_id=evacuee_id, purpose=purpose, at=now) for evacuee_id in ids
    )


def record_reads_with_bases(*, viewer, reads: dict, purpose: str, shelter_id: int | None = None) -> None:
    """One row per person shown, with the reader's role and shelter, the basis and the categories.

    `reads` maps evacuee ids to their `access.consent.Verdict` (only people something was shown of).
    """
    purpose = _purpose_for_reads.get() or purpose
    if not reads:
        return
    now = timezone.now()
    role = role_of(viewer) or ""
    if shelter_id is None:
        managed = getattr(viewer, "_managed_shelter_ids", None)
        if managed is not None and len(managed) == 1:
            shelter_id = next(iter(managed))
    viewer = viewer if getattr(viewer, "is_authenticated", False) else None
    rows = []
    for evacuee_id, verdict in reads.items():
        basis = verdict.recorded_basis
        rows.append(
            PersonalDataAccess(
                viewer=viewer,
                evacuee_id=evacuee_id,
                purpose=purpose,
                at=now,
                role=role,
                shelter_id=shelter_id,
                basis=basis.code if basis else "",
                release_id=basis.release_id if basis else None,
                categories=",".join(sorted(verdict.bases)),
            )
        )
    PersonalDataAccess.objects.bulk_create(rows)


def record_household_reads(*, viewer, evacuee_ids: Iterable[int], purpose: str) -> None:
    """Household members' names shown to a resident on their own page: one row per member, role
    "resident" and basis "household" (they are registered together), so the member sees it."""
    purpose = _purpose_for_reads.get() or purpose
    ids = list(dict.fromkeys(i for i in evacuee_ids if i is not None))
    if not ids:
        return
    now = timezone.now()
    viewer = viewer if getattr(viewer, "is_authenticated", False) else None
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(
            viewer=viewer,
            evacuee_id=evacuee_id,
            purpose=purpose,
            at=now,
            role="resident",
            basis="household",
            categories="basic",
        )
        for evacuee_id in ids
    )
