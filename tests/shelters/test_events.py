"""Snapshot + events = fresh snapshot for each shelter action (tests/realtime/verify.py)."""

import pytest

from shelters import events, services
from shelters.models import Destination, ShelterStatus, Stay
from tests.factories import EvacueeFactory
from tests.realtime.verify import Watcher, verify_action

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def needing_support(hq, name):
    person = EvacueeFactory(name=name)
    services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"support_needs": {"wheelchair": ""}})
    return person


def checked_in(hq, shelter, person):
    services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[person.pk], actor=hq)
    return Stay.objects.get(evacuee=person, checked_out_at__isnull=True)


def test_a_check_in_as_the_city_the_shelters_manager_and_an_official_see_it(hq, manager_a, official, shelter_a):
    person = needing_support(hq, "支援 太郎")

    heard = verify_action(
        lambda: services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq),
        Watcher(hq, "/ws/city/"),
        Watcher(manager_a, f"/ws/shelters/{shelter_a.pk}/"),
        Watcher(official, f"/ws/shelters/{shelter_a.pk}/"),
    )

    at_city, at_manager, at_official = ([message["type"] for message in messages] for messages in heard)
    assert at_city == at_official == ["shelter.updated"]
    assert at_manager == ["shelter.updated", "support_list"]


def test_a_check_out(hq, manager_a, shelter_a):
    stay = checked_in(hq, shelter_a, needing_support(hq, "支援 太郎"))

    verify_action(
        lambda: services.stay_check_out(stay_id=stay.pk, actor=manager_a, destination=Destination.HOME),
        Watcher(hq, "/ws/city/"),
        Watcher(manager_a, f"/ws/shelters/{shelter_a.pk}/"),
    )


def test_a_transfer_as_both_shelters_and_the_city_see_it(hq, manager_a, manager_b, shelter_a, shelter_b):
    stay = checked_in(hq, shelter_a, needing_support(hq, "支援 太郎"))

    verify_action(
        lambda: services.stay_transfer(stay_id=stay.pk, to_shelter_id=shelter_b.pk, actor=hq),
        Watcher(hq, "/ws/city/"),
        Watcher(manager_a, f"/ws/shelters/{shelter_a.pk}/"),
        Watcher(manager_b, f"/ws/shelters/{shelter_b.pk}/"),
    )


def test_a_status_change(hq, manager_a, official, shelter_a):
    verify_action(
        lambda: services.shelter_status_change(shelter_id=shelter_a.pk, to_status=ShelterStatus.CLOSED, actor=hq),
        Watcher(official, "/ws/city/"),
        Watcher(manager_a, f"/ws/shelters/{shelter_a.pk}/"),
    )


def test_a_replays_progress(hq):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from shelters.models import ReplayRun

    def progress():
        ReplayRun.objects.create(
            name="nanao-2024",
            started_at=timezone.now(),
            simulated_at=datetime(2024, 1, 9, 18, tzinfo=ZoneInfo("Asia/Tokyo")),
        )
        events.replay_progressed()

    verify_action(progress, Watcher(hq, "/ws/city/"))
