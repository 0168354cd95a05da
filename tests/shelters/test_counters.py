"""The shelters' live figures are counters (shelters/services/counters.py): they always equal what
counting over the open stays and the people's needs would give, whatever path changed them, and the
event after a check-in is built from the counters' UPDATE … RETURNING without reading the shelter."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access import figures
from realtime import broadcast
from shelters import services
from shelters.models import Destination, Evacuee, Shelter, StayMode
from shelters.selectors import shelter_states
from tests.factories import EvacueeFactory, ShelterFactory

pytestmark = pytest.mark.django_db


def counted(shelter: Shelter) -> dict:
    """The figures as counting over people gives them (the slow way the counters replace)."""
    inside, outside = figures.occupancy_by_shelter(shelter_ids=[shelter.pk]).get(shelter.pk, (0, 0))
    return {
        "occupancy": inside,
        "outside_count": outside,
        "support_people": figures.support_people_by_shelter(shelter_ids=[shelter.pk]).get(shelter.pk, 0),
        "support_counts": figures.support_counts_by_shelter(shelter_ids=[shelter.pk]).get(shelter.pk, {}),
    }


def kept(shelter: Shelter) -> dict:
    shelter.refresh_from_db()
    return {
        "occupancy": shelter.occupancy,
        "outside_count": shelter.outside_count,
        "support_people": shelter.support_people,
        "support_counts": {code: people for code, people in shelter.support_counts.items() if people},
    }


def needing(*codes: str, requires: bool = False) -> Evacuee:
    person = EvacueeFactory(requires_evacuation_support=requires)
    if codes:
        services.evacuee_update(evacuee_id=person.pk, actor=None, changes={"support_needs": dict.fromkeys(codes, "")})
    return person


def test_every_path_keeps_the_counters_equal_to_counting_the_people(hq, support_categories):
    a, b = ShelterFactory(capacity=100), ShelterFactory(capacity=100)
    elderly, wheelchair_elderly, listed, plain = (
        needing("elderly"),
        needing("wheelchair", "elderly"),
        needing(requires=True),
        needing(),
    )
    services.stay_check_in(shelter_id=a.pk, evacuee_ids=[elderly.pk, wheelchair_elderly.pk, plain.pk], actor=hq)
    services.stay_check_in(shelter_id=a.pk, evacuee_ids=[listed.pk], actor=hq, mode=StayMode.IN_CAR)
    assert (
        kept(a)
        == counted(a)
        == {
            "occupancy": 3,
            "outside_count": 1,
            "support_people": 3,
            "support_counts": {"elderly": 2, "wheelchair": 1},
        }
    )

    # Needs change while staying: the shelter's counters follow.
    services.evacuee_update(evacuee_id=plain.pk, actor=hq, changes={"support_needs": {"pregnant": ""}})
    services.evacuee_update(evacuee_id=elderly.pk, actor=hq, changes={"support_needs": {}})
    services.evacuee_update(evacuee_id=listed.pk, actor=hq, changes={"requires_evacuation_support": False})
    assert kept(a) == counted(a)
    assert kept(a)["support_counts"] == {"elderly": 1, "wheelchair": 1, "pregnant": 1}

    stay = wheelchair_elderly.stays.get()
    services.stay_transfer(stay_id=stay.pk, to_shelter_id=b.pk, actor=hq, mode=StayMode.AT_HOME)
    assert (kept(a), kept(b)) == (counted(a), counted(b))
    assert kept(b)["support_counts"] == {"elderly": 1, "wheelchair": 1}

    services.stay_check_out(stay_id=plain.stays.get().pk, actor=hq, destination=Destination.HOME)
    assert kept(a) == counted(a)
    assert kept(a)["support_counts"] == {}

    # Removing stays outright (sample data) is followed by a recount.
    Shelter.objects.filter(pk=b.pk).update(occupancy=7, support_people=9, support_counts={"elderly": 4})
    services.shelter_counts_recount(shelter_ids=[b.pk], actor=None)
    assert kept(b) == counted(b)


def test_the_check_in_event_is_built_from_the_counters_without_reading_the_shelter_again(
    hq, support_categories, django_capture_on_commit_callbacks, listen
):
    shelter = ShelterFactory(capacity=100)
    person = needing("elderly")
    socket = listen(broadcast.shelter_stream(shelter.pk))
    with django_capture_on_commit_callbacks() as callbacks:
        services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[person.pk], actor=hq)
    with CaptureQueriesContext(connection) as after_commit:
        for callback in callbacks:
            callback()

    assert after_commit.captured_queries == []
    (state,) = socket.heard()[-1]["data"]["shelters"]
    assert state == shelter_states(shelter_ids=[shelter.pk])[0]
    assert (state["occupancy"], state["support_people"], state["support_counts"]) == (1, 1, {"elderly": 1})


def test_a_check_in_that_fills_the_shelter_sends_it_as_full(hq, django_capture_on_commit_callbacks, listen):
    shelter = ShelterFactory(capacity=2)
    people = EvacueeFactory.create_batch(2)
    socket = listen(broadcast.shelter_stream(shelter.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[p.pk for p in people], actor=hq)

    (state,) = socket.heard()[-1]["data"]["shelters"]
    assert (state["status"], state["occupancy"]) == ("full", 2)
