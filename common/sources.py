"""Where rows come from, and the one way to remove the rows of a source (sample data, a replay).

Every app whose tables hold rows of a source registers, in its `AppConfig.ready()`, how to remove
them and (for sample data) how to load them, naming the apps whose rows its own rows refer to:

    source_rows_register(app="supply", depends_on=("shelters", "surveys"), remove=..., load_sample=...)

`source_rows_remove(source=...)` runs every remover in one transaction, the apps that refer to
others first (supply, surveys, notifications ... shelters), so no row is left pointing at a
removed one. `sample_data_load()` runs the loaders the other way round (shelters first). The
demo's `load_demo --reset` and the replay's `replay_nanao --clear` both go through here, so the
lower apps never import the higher ones to clean up after them.

This module imports no domain code: the apps come to it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class DataSource(models.TextChoices):
    """Where a row came from, so sample and replayed data can be shown as such and removed."""

    REAL = "real", _("Real")
    SAMPLE = "sample", _("Sample data")
    REPLAY = "replay", _("Replay")


# Sample shelters carry real facility names and are the demo's master data: a reset keeps them
# (with their managers and any edits) and puts them back to standby. A replay's shelters exist
# only for the replay and go with it, with whatever else happened at them.
SOURCES_WHOSE_SHELTERS_GO = frozenset({DataSource.REPLAY})


@dataclass(frozen=True)
class SourceRemoval:
    """What one removal takes: rows labelled `source`, rows of its people, and (when
    `shelters_go`) every row at its shelters, whatever that row's own label."""

    source: str
    shelters_go: bool


Remover = Callable[[SourceRemoval], dict[str, int] | None]
SampleLoader = Callable[[], dict[str, int] | None]


@dataclass(frozen=True)
class SourceRows:
    app: str
    depends_on: tuple[str, ...]
    remove: Remover | None
    load_sample: SampleLoader | None


_registry: dict[str, SourceRows] = {}


def source_rows_register(
    *,
    app: str,
    depends_on: tuple[str, ...] = (),
    remove: Remover | None = None,
    load_sample: SampleLoader | None = None,
) -> None:
    """Register an app's remover and sample loader; registering an app again replaces it."""
    _registry[app] = SourceRows(app=app, depends_on=tuple(depends_on), remove=remove, load_sample=load_sample)


def source_rows_registered() -> list[SourceRows]:
    """The registered apps, each after the apps it depends on (ties by name, so the order is stable)."""
    remaining = {app: {d for d in rows.depends_on if d in _registry and d != app} for app, rows in _registry.items()}
    ordered: list[SourceRows] = []
    while remaining:
        ready = sorted(app for app, needs in remaining.items() if not needs)
        if not ready:
            raise RuntimeError(f"source_rows_register: the apps {sorted(remaining)} depend on each other in a circle")
        for app in ready:
            ordered.append(_registry[app])
            del remaining[app]
        for needs in remaining.values():
            needs.difference_update(ready)
    return ordered


def source_rows_remove(*, source: str) -> dict[str, int]:
    """Remove every row of `source`, all or nothing; returns what each remover counted, by name."""
    if source not in DataSource.values or source == DataSource.REAL:
        raise ValueError(f"only sample or replay rows can be removed, not '{source}'")
    removal = SourceRemoval(source=source, shelters_go=source in SOURCES_WHOSE_SHELTERS_GO)
    counts: dict[str, int] = {}
    with transaction.atomic():
        for rows in reversed(source_rows_registered()):
            if rows.remove is not None:
                counts.update(rows.remove(removal) or {})
    return counts


def sample_data_load() -> dict[str, int]:
    """Load every app's sample data, the apps others depend on first; returns what each loader counted."""
    counts: dict[str, int] = {}
    with transaction.atomic():
        for rows in source_rows_registered():
            if rows.load_sample is not None:
                counts.update(rows.load_sample() or {})
    return counts
