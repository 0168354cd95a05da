"""Writes to the shelter registry: the list of shelters, their places, hazards and capacities.

Status, occupancy and the opening times belong to the stay services: an edit of one shelter's
capacity here asks them (`automatic_full_apply`) whether 満員 is set or lifted, as a check-in would.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.changes import apply_changes, pks, refuse_unknown_fields
from common.errors import ApplicationError
from shelters import events
from shelters.importers import REGISTRY_FIELDS, ShelterRecord
from shelters.models import DataSource, Shelter, User
from shelters.services.stays import automatic_full_apply, shelters_lock

# Keeps `code IN (...)` under SQLite's limit on query parameters for national-size files.
LOOKUP_CHUNK = 1000
BATCH_SIZE = 500


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int = 0


def _merge_by_code(records: Iterable[ShelterRecord]) -> dict[str, ShelterRecord]:
    """One record per code; when several files name a shelter, the later file's values win."""
    merged: dict[str, ShelterRecord] = {}
    for record in records:
        if not record.code:
            raise ApplicationError(_("A shelter needs an ID."), field="code")
        earlier = merged.get(record.code)
        if earlier is None:
            merged[record.code] = record
        else:
            merged[record.code] = replace(
                earlier,
                **{name: getattr(record, name) for name in record.present},
                line=record.line,
                present=earlier.present | record.present,
            )
    return merged


def _lock_existing(codes: list[str]) -> dict[str, Shelter]:
    existing: dict[str, Shelter] = {}
    for start in range(0, len(codes), LOOKUP_CHUNK):
        chunk = codes[start : start + LOOKUP_CHUNK]
        existing.update((s.code, s) for s in Shelter.objects.select_for_update().filter(code__in=chunk))
    return existing


@transaction.atomic
def shelter_registry_import(
    *, records: Sequence[ShelterRecord], actor: User | None, source: str = DataSource.REAL
) -> ImportSummary:
    """Create or update shelters by `code` from parsed registry records, all or nothing.

    Only the fields a record's file carries are written, so a file without 名称_カナ leaves the
    kana alone. An import of real data marks the shelters it touches as real; a sample or replay
    import never relabels an existing shelter, so removing sample data cannot remove a real one.
    """
    if source not in DataSource.values:
        raise ApplicationError(_("Unknown data source."), field="source")
    merged = _merge_by_code(records)
    existing = _lock_existing(list(merged))

    new: list[Shelter] = []
    # Grouped by the fields to write, so each file's rows go out in one bulk update.
    to_update: dict[tuple[str, ...], list[Shelter]] = defaultdict(list)
    unchanged = 0
    for code, record in merged.items():
        shelter = existing.get(code)
        if shelter is None:
            new.append(Shelter(source=source, **{name: getattr(record, name) for name in record.present}))
            continue
        fields = [name for name in REGISTRY_FIELDS if name in record.present]
        changed = [name for name in fields if getattr(shelter, name) != getattr(record, name)]
        if source == DataSource.REAL and shelter.source != DataSource.REAL:
            shelter.source = DataSource.REAL
            changed.append("source")
            fields.append("source")
        if not changed:
            unchanged += 1
            continue
        for name in changed:
            if name != "source":
                setattr(shelter, name, getattr(record, name))
        to_update[tuple(fields)].append(shelter)

    Shelter.objects.bulk_create(new, batch_size=BATCH_SIZE)
    now = timezone.now()
    for fields, shelters in to_update.items():
        for shelter in shelters:
            shelter.updated_at = now
        Shelter.objects.bulk_update(shelters, [*fields, "updated_at"], batch_size=BATCH_SIZE)

    # Dashboards learn of new shelters and changed capacities like any other change.
    events.shelters_changed([s.pk for s in new if s.pk] + [s.pk for group in to_update.values() for s in group])

    summary = ImportSummary(
        created=len(new), updated=sum(len(shelters) for shelters in to_update.values()), unchanged=unchanged
    )
    audit_record(
        actor=actor,
        action="shelter.import",
        object_type="shelter_import",
        # An import has no row of its own; the source lets HQ tell real imports from sample loads.
        object_id=source,
        details={"created": summary.created, "updated": summary.updated},
    )
    return summary


# --- One shelter, edited by hand (the admin) ------------------------------------------------------

# What a person may edit on one shelter: the registry's fields and its facilities. Status and the
# counters belong to the stay services; the source is set by whoever loaded the row (relabelling
# sample or replay rows as real would keep them from ever being removed).
EDITABLE_SHELTER_FIELDS = frozenset(REGISTRY_FIELDS) | {"facilities"}


@transaction.atomic
def shelter_create(*, fields: dict, actor: User | None) -> Shelter:
    """A new shelter, in standby, labelled real; dashboards learn of it like any other change."""
    refuse_unknown_fields(fields, EDITABLE_SHELTER_FIELDS)
    if not str(fields.get("code") or "").strip():
        raise ApplicationError(_("A shelter needs an ID."), field="code")
    facilities = pks(fields.pop("facilities", ()))
    shelter = Shelter.objects.create(source=DataSource.REAL, **fields)
    if facilities:
        shelter.facilities.set(facilities)
    events.shelters_changed([shelter.pk])
    audit_record(
        actor=actor,
        action="shelter.create",
        object_type="shelter",
        object_id=shelter.pk,
        details={"fields": sorted({*fields, *(["facilities"] if facilities else [])})},
    )
    return shelter


@transaction.atomic
def shelter_update(*, shelter_id: int, changes: dict, actor: User | None) -> Shelter:
    """Change a shelter's registry fields or facilities under its row lock.

    A new capacity sets or lifts 満員 as a check-in would: lowered to the occupancy, an open
    shelter turns full; raised above it, a full shelter opens again if occupancy had made it full
    (never when a manager declared it full). The `shelter.updated` event goes out after commit.
    """
    refuse_unknown_fields(changes, EDITABLE_SHELTER_FIELDS)
    shelter = shelters_lock([shelter_id])[shelter_id]
    changes = dict(changes)
    changed: list[str] = []
    if "facilities" in changes:
        wanted = pks(changes.pop("facilities"))
        if wanted != set(shelter.facilities.values_list("pk", flat=True)):
            shelter.facilities.set(wanted)
            changed.append("facilities")
    if "code" in changes and not str(changes["code"] or "").strip():
        raise ApplicationError(_("A shelter needs an ID."), field="code")
    fields = apply_changes(shelter, changes)
    if fields:
        shelter.version += 1
        shelter.save(update_fields=[*fields, "version", "updated_at"])
        changed += fields
    if "capacity" in fields:
        automatic_full_apply(shelter=shelter, actor=actor, at=timezone.now())
    if changed:
        events.shelters_changed([shelter.pk])
        audit_record(
            actor=actor,
            action="shelter.update",
            object_type="shelter",
            object_id=shelter.pk,
            details={"fields": sorted(changed)},
        )
    return shelter
