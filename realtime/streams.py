"""The registry of stream kinds: what a socket may listen to, who may, and what it is sent first.

As Baserow's `ws/registries.py` against `contrib/database/ws/`: the realtime app runs the sockets
(realtime/consumers.py) and knows no domain; each app registers, in its own `streams.py` (imported
at start-up by realtime/apps.py), the streams it owns and the parts it adds to others':

    streams.register_stream(
        "shelter",
        route="ws/shelters/<int:shelter_id>/",
        route_key="shelter_id",
        stream_name=broadcast.shelter_stream,
        can_join=policy.can_watch_shelter,           # (user, key) -> bool, on connect and on re-checks
        shows_names=policy.may_see_names_at,         # (user, key) -> bool: gets the named lists
        shared_snapshot=lambda key: {...},           # key -> dict: the same for everyone who may join
        snapshot=lambda user, key: {...},            # (user, key) -> dict: what depends on the user
    )
    streams.add_shared_snapshot_part("shelter", lambda key: {"notifications": [...]})  # another app's part
    streams.add_snapshot_part("shelter", lambda user, key: {"follow_ups": [...]})      # ... per user
    streams.add_named_list("shelter", message_type="follow_up_list", key="follow_ups",
                           fetch=lambda user, key: [...], refreshed_by={FOLLOW_UPS_CHANGED})

A named list carries names, so it never rides on the stream's events (officials may watch the
same stream): a socket that shows names fetches it itself, once per burst, after an event of one of
the `refreshed_by` types, and only after re-checking that its user still may (see consumers.py).

A snapshot has two halves. The shared one depends only on the stream (`key`), never on who asks:
everyone allowed to join gets the same bytes, so a process builds and serialises it once per
stream position and hands it to every socket that asks at that position (realtime/snapshots.py);
a thousand dashboards reconnecting after a blip cost one build, not a thousand. The personal half
(`snapshot` and `add_snapshot_part`) is built for each socket's user. Whatever carries names, or is
cut to what the user may see, belongs in the personal half.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# (user, key) -> ...; `key` is the URL's value (a shelter's id) or None for a stream without one.
Check = Callable[[Any, Any], bool]
Part = Callable[[Any, Any], dict]
SharedPart = Callable[[Any], dict]  # key -> dict: the same whoever asks


def _no_personal_data(user, key) -> dict:
    return {}


@dataclass(frozen=True)
class NamedList:
    message_type: str  # the message's `type`, e.g. "support_list"
    key: str  # its data's one key, e.g. "support_list"
    fetch: Callable[[Any, Any], list | None]  # (user, key) -> items, or None when the user may not
    refreshed_by: frozenset[str]  # event types after which it is sent again


@dataclass
class StreamKind:
    name: str
    route: str
    can_join: Check
    stream_name: Callable[[Any], str]
    route_key: str | None = None
    shows_names: Check = field(default=lambda user, key: False)
    snapshot: Part = field(default=_no_personal_data)
    shared_snapshot: SharedPart = field(default=lambda key: {})

    def key_from(self, url_kwargs: dict):
        return url_kwargs[self.route_key] if self.route_key else None

    def shared_data(self, key) -> dict:
        """The half of the snapshot that is the same for every user who may join (see the module)."""
        data = dict(self.shared_snapshot(key))
        for part in _shared_parts[self.name]:
            data.update(part(key))
        return data

    def personal_data(self, user, key) -> dict:
        """The half built for `user`."""
        data = dict(self.snapshot(user, key))
        for part in _parts[self.name]:
            data.update(part(user, key))
        return data

    @property
    def has_personal_data(self) -> bool:
        return self.snapshot is not _no_personal_data or bool(_parts[self.name])

    def snapshot_data(self, user, key) -> dict:
        shared, personal = self.shared_data(key), self.personal_data(user, key)
        overlap = shared.keys() & personal.keys()
        if overlap:
            raise ValueError(f"stream {self.name}: {sorted(overlap)} are both shared and per user")
        return {**shared, **personal}

    def named_lists(self) -> list[NamedList]:
        return _named_lists[self.name]


_kinds: dict[str, StreamKind] = {}
# Keyed by kind name rather than kept on the kind: another app may add to a stream before the app
# that owns it has registered it (apps load in any order).
_parts: dict[str, list[Part]] = defaultdict(list)
_shared_parts: dict[str, list[SharedPart]] = defaultdict(list)
_named_lists: dict[str, list[NamedList]] = defaultdict(list)


def register_stream(
    name: str,
    *,
    route: str,
    can_join: Check,
    stream_name: Callable[[Any], str],
    snapshot: Part | None = None,
    shared_snapshot: SharedPart | None = None,
    route_key: str | None = None,
    shows_names: Check | None = None,
) -> StreamKind:
    if name in _kinds:
        raise ValueError(f"stream kind {name} is registered twice")
    kind = StreamKind(
        name=name,
        route=route,
        can_join=can_join,
        stream_name=stream_name,
        route_key=route_key,
        shows_names=shows_names or (lambda user, key: False),
        snapshot=snapshot or _no_personal_data,
        shared_snapshot=shared_snapshot or (lambda key: {}),
    )
    _kinds[name] = kind
    return kind


def add_snapshot_part(kind: str, part: Part) -> None:
    """Another app's share of a stream's snapshot built per user: `part(user, key)` returns keys to add."""
    _parts[kind].append(part)


def add_shared_snapshot_part(kind: str, part: SharedPart) -> None:
    """Another app's share of a stream's snapshot that is the same for every user allowed on the
    stream: `part(key)` returns keys to add. Built once per stream position and shared."""
    _shared_parts[kind].append(part)


def add_named_list(
    kind: str, *, message_type: str, key: str, fetch: Callable[[Any, Any], list | None], refreshed_by
) -> None:
    _named_lists[kind].append(
        NamedList(message_type=message_type, key=key, fetch=fetch, refreshed_by=frozenset(refreshed_by))
    )


def stream_kind(name: str) -> StreamKind:
    return _kinds[name]


def stream_kinds() -> list[StreamKind]:
    return list(_kinds.values())


def snapshot_data(kind: str, *, user, key=None) -> dict:
    """The data of a stream's snapshot, as the socket sends it: for pages that embed the first one."""
    return _kinds[kind].snapshot_data(user, key)
