"""Writes to the shelter registry: the list of shelters, their places, hazards and capacities.

Status, occupancy and the opening times belong to the stay services and are never written here.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.errors import ApplicationError
from shelters import events
from shelters.importers import REGISTRY_FIELDS, ShelterRecord
from shelters.models import DataSource, Shelter, User

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
