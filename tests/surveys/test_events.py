"""Snapshot + events = fresh snapshot for survey answers and follow-up changes (tests/realtime/verify.py)."""

import pytest

from surveys import services
from surveys.models import FollowUp, FollowUpState
from tests.factories import EvacueeFactory
from tests.realtime.verify import Watcher, verify_action
from tests.surveys.follow_up_helpers import k6_answers, submit

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_distressed_answer_as_the_city_the_shelters_manager_and_an_official_see_it(
    hq, manager_a, official, shelter_a
):
    person = EvacueeFactory(name="会津 苦子")

    heard = verify_action(
        lambda: submit(shelter_a, k6_answers(20), respondent=person),
        Watcher(hq, "/ws/city/"),
        Watcher(manager_a, f"/ws/shelters/{shelter_a.pk}/"),
        Watcher(official, f"/ws/shelters/{shelter_a.pk}/"),
    )

    at_city, at_manager, at_official = ([message["type"] for message in messages] for messages in heard)
    assert at_city == ["surveys.summary"]
    assert at_manager == ["follow_ups.changed", "follow_up_list"]
    assert at_official == ["follow_ups.changed"]


def test_a_follow_up_moving_on_and_closing(hq, manager_a, shelter_a):
    submit(shelter_a, k6_answers(18), respondent=EvacueeFactory(name="会津 苦子"))
    case = FollowUp.objects.get()

    def contacted():
        services.follow_up_change_state(follow_up_id=case.pk, to_state=FollowUpState.CONTACTED, actor=manager_a)

    def closed():
        services.follow_up_change_state(follow_up_id=case.pk, to_state=FollowUpState.CLOSED, actor=hq)

    verify_action(contacted, Watcher(manager_a, f"/ws/shelters/{shelter_a.pk}/"))
    verify_action(closed, Watcher(manager_a, f"/ws/shelters/{shelter_a.pk}/"))
