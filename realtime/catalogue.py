"""Every event type the server sends, with the schema of its data and the streams it may go to.

As Zulip's `zerver/lib/event_types.py`: each app declares its events in its own `events.py`

    SHELTER_UPDATED = catalogue.register("shelter.updated", ShelterUpdated, streams=("city", "shelter"))

where `ShelterUpdated` is a TypedDict of the event's `data`. The realtime app imports every app's
`events` module at start-up (realtime/apps.py), so the catalogue is complete before anything sends.

When `settings.REALTIME_CHECK_EVENTS` is on (tests, and DEBUG), `broadcast.send` checks every event
against its schema as the client will read it (after JSON encoding): an unregistered type, a
missing or unknown key, a wrong type, or a stream the type is not declared for raises
`InvalidEvent`. Violations are also kept in `violations`, so a test fails even where a caller
swallowed the error (tests/conftest.py).

The frames around the events have their schemas here too (`FRAMES`): each event travels in an
`Envelope`, a socket starts with a `Snapshot`, and hears a `Heartbeat` every few seconds.
"""

import json
import types
import typing
from dataclasses import dataclass
from typing import TypedDict

from django.core.serializers.json import DjangoJSONEncoder


class InvalidEvent(Exception):
    pass


class Envelope(TypedDict):
    """An event as a client gets it (realtime/broadcast.py); `data` follows the type's own schema."""

    type: str
    stream: str
    epoch: str  # names the stream's counter: another epoch means numbers started again
    seq: int  # one more than the stream's previous event in this epoch
    committed_at: float  # ms since the epoch (Unix), when the transaction committed
    data: typing.Any


class Snapshot(TypedDict):
    """The first frame on a socket, and the answer to `{"action": "resync"}` (realtime/consumers.py)."""

    type: typing.Literal["snapshot"]
    stream: str
    epoch: str
    seq: int  # events up to this number (in this epoch) are in `data`
    heartbeat_seconds: int  # how often a heartbeat comes: the client's measure of "stale"
    data: typing.Any


class Heartbeat(TypedDict):
    """Where the stream is, sent through Redis to every socket every few seconds (realtime/hub.py)."""

    type: typing.Literal["heartbeat"]
    stream: str
    epoch: str
    seq: int  # the stream's last number: a client that has not seen it yet missed an event


FRAMES = {"envelope": Envelope, "snapshot": Snapshot, "heartbeat": Heartbeat}


@dataclass(frozen=True)
class EventType:
    name: str
    schema: type  # a TypedDict: the event's `data`
    streams: tuple[str, ...]  # stream kinds it may be sent to ("city", "shelter", ...)
    description: str = ""


_catalogue: dict[str, EventType] = {}
violations: list[str] = []


def register(name: str, schema: type, *, streams: tuple[str, ...], description: str = "") -> str:
    """Declare an event type; returns its name for the sender's constant."""
    if not typing.is_typeddict(schema):
        raise TypeError(f"the schema of {name} must be a TypedDict")
    known = _catalogue.get(name)
    if known is not None and known.schema is not schema:
        raise ValueError(f"event type {name} is registered twice")
    _catalogue[name] = EventType(name=name, schema=schema, streams=tuple(streams), description=description)
    return name


def event_types() -> dict[str, EventType]:
    return dict(_catalogue)


def stream_kind(stream: str) -> str:
    """`shelter.12` -> `shelter`; `city` -> `city`."""
    return stream.split(".", 1)[0]


def check(*, event_type: str, streams: list[str], data) -> None:
    """Raise InvalidEvent unless the event is registered, goes where declared and matches its schema."""
    try:
        registered = _catalogue.get(event_type)
        if registered is None:
            raise InvalidEvent(f"{event_type} is not in the event catalogue")
        for stream in streams:
            if stream_kind(stream) not in registered.streams:
                raise InvalidEvent(f"{event_type} may not go to stream {stream}")
        # As the client reads it: dates become strings, tuples lists.
        wire = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
        validate(registered.schema, wire, path="data", event_type=event_type)
    except InvalidEvent as error:
        violations.append(str(error))
        raise


def check_frame(kind: str, text: str) -> None:
    """Raise InvalidEvent unless `text` is a frame of that kind (a key of FRAMES), as sent."""
    validate(FRAMES[kind], json.loads(text), path=kind)


def validate(expected, value, *, path: str, event_type: str = "") -> None:
    def fail(reason: str):
        raise InvalidEvent(f"{event_type}: {path} {reason}, got {value!r}"[:500])

    if expected is typing.Any:
        return
    if typing.is_typeddict(expected):
        if not isinstance(value, dict):
            fail("must be an object")
        hints = typing.get_type_hints(expected)
        required = expected.__required_keys__
        unknown = set(value) - set(hints)
        if unknown:
            fail(f"has unknown keys {sorted(unknown)}")
        missing = set(required) - set(value)
        if missing:
            fail(f"lacks keys {sorted(missing)}")
        for key, item in value.items():
            validate(hints[key], item, path=f"{path}.{key}", event_type=event_type)
        return
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(expected):
            try:
                validate(option, value, path=path, event_type=event_type)
                return
            except InvalidEvent:
                continue
        fail(f"must be {expected}")
    if origin is typing.Literal:
        if value not in typing.get_args(expected):
            fail(f"must be one of {typing.get_args(expected)}")
        return
    if origin is list:
        if not isinstance(value, list):
            fail("must be a list")
        (item_type,) = typing.get_args(expected)
        for index, item in enumerate(value):
            validate(item_type, item, path=f"{path}[{index}]", event_type=event_type)
        return
    if origin is dict:
        if not isinstance(value, dict):
            fail("must be an object")
        key_type, item_type = typing.get_args(expected)
        for key, item in value.items():
            validate(key_type, key, path=f"{path} key", event_type=event_type)
            validate(item_type, item, path=f"{path}.{key}", event_type=event_type)
        return
    if expected is type(None) or expected is None:
        if value is not None:
            fail("must be null")
        return
    if expected is bool:
        if not isinstance(value, bool):
            fail("must be a boolean")
        return
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail("must be an integer")
        return
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail("must be a number")
        return
    if expected is str:
        if not isinstance(value, str):
            fail("must be a string")
        return
    raise TypeError(f"{event_type}: the catalogue cannot check {expected!r} at {path}")
