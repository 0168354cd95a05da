"""The catalogue of events: every type the server sends is registered with a strict schema."""

import re
from pathlib import Path
from typing import TypedDict

import pytest

from realtime import broadcast, catalogue

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class Inner(TypedDict):
    id: int
    label: str | None


class Sample(TypedDict):
    items: list[Inner]
    counts: dict[str, int]
    share: float


SAMPLE = catalogue.register("test.sample", Sample, streams=("city",))
GOOD = {"items": [{"id": 1, "label": None}], "counts": {"wheelchair": 2}, "share": 1}


@pytest.fixture
def forgiven():
    """For tests that send bad events on purpose: the suite-wide check must not count them."""
    yield
    catalogue.violations.clear()


def test_a_payload_that_matches_its_schema_passes():
    catalogue.check(event_type=SAMPLE, streams=["city"], data=GOOD)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({**GOOD, "extra": 1}, "unknown keys"),
        ({"items": [], "counts": {}}, "lacks keys"),
        ({**GOOD, "items": [{"id": "1", "label": None}]}, "data.items[0].id must be an integer"),
        ({**GOOD, "items": [{"id": True, "label": None}]}, "data.items[0].id must be an integer"),
        ({**GOOD, "items": [{"id": 1, "label": 3}]}, "data.items[0].label must be"),
        ({**GOOD, "counts": {"wheelchair": "2"}}, "data.counts.wheelchair must be an integer"),
        ({**GOOD, "share": None}, "data.share must be a number"),
        ({**GOOD, "items": {"id": 1}}, "data.items must be a list"),
    ],
)
def test_a_payload_that_breaks_its_schema_is_refused(data, reason, forgiven):
    with pytest.raises(catalogue.InvalidEvent, match=re.escape(reason)):
        catalogue.check(event_type=SAMPLE, streams=["city"], data=data)
    assert len(catalogue.violations) == 1


def test_an_unregistered_type_is_refused(forgiven):
    with pytest.raises(catalogue.InvalidEvent, match="not in the event catalogue"):
        catalogue.check(event_type="shelter.renamed", streams=["city"], data={})


def test_a_type_sent_to_a_stream_it_is_not_declared_for_is_refused(forgiven):
    with pytest.raises(catalogue.InvalidEvent, match=re.escape("may not go to stream shelter.3")):
        catalogue.check(event_type="supply.changed", streams=["shelter.3"], data={"tasks": [1]})


def test_broadcast_refuses_to_send_a_bad_event_in_tests(forgiven):
    with pytest.raises(catalogue.InvalidEvent):
        broadcast.send(event_type="supply.changed", streams=[broadcast.CITY_STREAM], data={"tasks": "all"})


def test_a_type_registered_twice_with_another_schema_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        catalogue.register(SAMPLE, Inner, streams=("city",))


def test_every_event_type_the_browser_listens_for_is_in_the_catalogue():
    listened = set()
    for script in (BASE_DIR / "static" / "js").glob("*.js"):
        listened |= set(re.findall(r'type === "([a-z_]+\.[a-z_.]+)"', script.read_text()))
    assert listened, "no event types found in the scripts"
    assert listened <= set(catalogue.event_types())


def test_every_app_event_type_has_a_description_and_known_streams():
    for name, registered in catalogue.event_types().items():
        if name.startswith("test."):
            continue
        assert registered.description, name
        assert set(registered.streams) <= {"city", "shelter", "control"}, name
