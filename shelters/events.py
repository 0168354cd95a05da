"""Events about shelters, sent after the transaction that changed them commits.

The stay and status services call `shelters_changed(ids)`. However many check-ins one transaction
makes, each changed shelter is sent once, with its state as committed (read after commit), to the
city stream and to its own stream. Event types (registered in the catalogue, realtime/catalogue.py):

- `shelter.updated` on the city and shelter streams: {"shelters": [ShelterState, ...]}
- `replay.progress` on the city stream: {"replay": ReplayState | None}, the simulated time of a
  running replay.

A ShelterState carries figures only, never a person: it goes to officials too.
"""

import time
from typing import TypedDict

from django.db import transaction

from realtime import broadcast, catalogue, coalesce


class ShelterState(TypedDict):
    id: int
    name: str
    status: str
    status_label: str
    kind: str
    source: str
    capacity: int | None
    occupancy: int
    outside_count: int
    latitude: float | None
    longitude: float | None
    support_counts: dict[str, int]
    support_people: int
    alerts: list[str]
    version: int


class ShelterUpdated(TypedDict):
    shelters: list[ShelterState]


class ReplayState(TypedDict):
    name: str
    simulated_at: str | None  # ISO time reached in the replayed day
    finished: bool


class ReplayProgress(TypedDict):
    replay: ReplayState | None


SHELTER_UPDATED = catalogue.register(
    "shelter.updated",
    ShelterUpdated,
    streams=("city", "shelter"),
    description="Shelters' figures as committed; a newer version replaces an older one.",
)
REPLAY_PROGRESS = catalogue.register(
    "replay.progress", ReplayProgress, streams=("city",), description="How far the replay of real data has got."
)


def shelters_changed(shelter_ids) -> None:
    """Note that these shelters changed; one event per shelter goes out when the transaction
    commits, with the shelter as committed (read again then)."""
    pending = coalesce.collector("_pending_shelter_events", factory=dict, send=_send)
    if pending is None:
        _send(dict.fromkeys(shelter_ids))
        return
    for shelter_id in shelter_ids:
        pending[shelter_id] = None


def shelter_state_changed(state: ShelterState) -> None:
    """A shelter's state as this transaction leaves it (the counters' UPDATE … RETURNING, under
    the shelter's row lock): sent after commit as it is, without reading the shelter again. Of
    several, the highest version goes; a shelter also noted by `shelters_changed` is read again."""
    pending = coalesce.collector("_pending_shelter_events", factory=dict, send=_send)
    if pending is None:
        _send({state["id"]: state})
        return
    if state["id"] not in pending or (
        pending[state["id"]] is not None and pending[state["id"]]["version"] <= state["version"]
    ):
        pending[state["id"]] = state


def consent_changed_heard(change) -> None:
    """A resident's consent or a release changed what readers may see (consent.services): the
    shelters where they stay send `shelter.updated` after commit, and each open dashboard that shows
    names there fetches its named lists (`support_list`) again, through the access layer."""
    from access.figures import shelters_where_staying

    shelters_changed(shelters_where_staying(subjects=change.subjects, everyone=change.everyone))


def _send(pending: dict) -> None:
    """Publish each shelter's state: as given, or (None) read now, after commit."""
    if not pending:
        return
    committed_at = time.time() * 1000
    from shelters.selectors import shelter_states  # selectors import models; keep this module light

    to_read = [shelter_id for shelter_id, state in pending.items() if state is None]
    states = [state for state in pending.values() if state is not None]
    if to_read:
        states += shelter_states(shelter_ids=to_read)
    publish_states(states, committed_at=committed_at)


def publish_states(states: list[ShelterState], *, committed_at: float) -> None:
    """Send the committed states of the shelters a transaction changed: one city event with all of
    them, and each shelter's own stream its shelter. One Redis round trip for all (broadcast.send_many).

    Apart from how the states are had, so that a service that already holds them (built from what
    its transaction wrote) calls this after commit without reading the shelters again.
    """
    broadcast.send_many(
        [
            broadcast.Event(SHELTER_UPDATED, [broadcast.CITY_STREAM], {"shelters": states}),
            *(
                broadcast.Event(SHELTER_UPDATED, [broadcast.shelter_stream(state["id"])], {"shelters": [state]})
                for state in states
            ),
        ],
        committed_at=committed_at,
    )


def replay_state() -> ReplayState | None:
    """The replay the city is watching, if any: its name and the simulated time reached."""
    from shelters.models import ReplayRun

    run = ReplayRun.objects.order_by("-started_at").first()
    if run is None:
        return None
    return {
        "name": run.name,
        "simulated_at": run.simulated_at.isoformat() if run.simulated_at else None,
        "finished": run.finished_at is not None,
    }


def replay_progressed() -> None:
    """Tell the city dashboards how far the replay has got, once the change is committed."""
    transaction.on_commit(
        lambda: broadcast.send(
            event_type=REPLAY_PROGRESS, streams=[broadcast.CITY_STREAM], data={"replay": replay_state()}
        ),
        robust=True,
    )
