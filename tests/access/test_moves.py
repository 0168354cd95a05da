"""A follow-up case, the survey token and open supply requests follow their person to a new shelter."""

import pytest
from django.urls import reverse

from realtime import streams
from shelters import services
from shelters.services.moves import person_moved_handlers
from supply.models import RequestStatus
from supply.services import requests_follow_person
from surveys.answering import links
from surveys.follow_ups.services import follow_ups_follow_person
from surveys.models import Response, SurveyToken
from surveys.services import survey_token_issue
from tests.surveys.follow_up_helpers import k6_answers

pytestmark = pytest.mark.django_db


def transfer(world, shelter_b, hq):
    services.stay_transfer(stay_id=world.stay.pk, to_shelter_id=shelter_b.pk, actor=hq)


def leave_and_come_back_elsewhere(world, shelter_b, hq):
    services.stay_check_out(stay_id=world.stay.pk, actor=hq, destination="home")
    services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[world.resident.pk], actor=hq)


MOVES = pytest.mark.parametrize("move", [transfer, leave_and_come_back_elsewhere], ids=["transfer", "out and in"])


def test_the_surveys_and_supply_apps_register_their_move_handlers():
    assert follow_ups_follow_person in person_moved_handlers
    assert requests_follow_person in person_moved_handlers


@MOVES
def test_the_new_shelters_manager_sees_the_follow_up_case_and_the_old_one_does_not(
    move, world, shelter_a, shelter_b, hq, manager_a, manager_b, api_as, as_user
):
    move(world, shelter_b, hq)

    world.follow_up.refresh_from_db()
    assert world.follow_up.shelter == shelter_b
    assert [c["id"] for c in api_as(manager_b).get("/api/follow-ups/").json()["results"]] == [world.follow_up.pk]
    assert api_as(manager_a).get("/api/follow-ups/").json()["results"] == []
    assert api_as(manager_a).get(f"/api/follow-ups/{world.follow_up.pk}/").status_code == 404
    assert world.resident.name in as_user(manager_b).get(reverse("follow_ups:list")).content.decode()
    assert world.resident.name not in as_user(manager_a).get(reverse("follow_ups:list")).content.decode()


@MOVES
def test_the_shelter_sockets_named_follow_up_list_moves_with_the_person(
    move, world, shelter_a, shelter_b, hq, manager_a, manager_b
):
    move(world, shelter_b, hq)

    at_b = streams.snapshot_data("shelter", user=manager_b, key=shelter_b.pk)
    at_a = streams.snapshot_data("shelter", user=manager_a, key=shelter_a.pk)

    assert [row["name"] for row in at_b["follow_ups"]] == [world.resident.name]
    assert at_a["follow_ups"] == []
    # The count is suppressed for everyone, as `follow_ups.changed` carries it.
    assert (at_a["open_follow_ups"], at_b["open_follow_ups"]) == (0, "<5")


@MOVES
def test_an_open_supply_request_follows_the_person_and_a_planned_one_stays(
    move, world, shelter_a, shelter_b, hq, manager_a, manager_b, api_as
):
    planned = type(world.request).objects.create(
        shelter=shelter_a,
        evacuee=world.resident,
        item=world.request.item,
        origin="manual",
        status=RequestStatus.PLANNED,
    )

    move(world, shelter_b, hq)

    world.request.refresh_from_db()
    planned.refresh_from_db()
    assert (world.request.shelter, planned.shelter) == (shelter_b, shelter_a)
    assert [r["id"] for r in api_as(manager_b).get("/api/supply/requests/").json()["results"]] == [world.request.pk]
    assert [r["id"] for r in api_as(manager_a).get("/api/supply/requests/").json()["results"]] == [planned.pk]


def test_the_survey_token_is_accepted_at_the_new_shelter_and_no_longer_at_the_old(
    world, shelter_a, shelter_b, hq, client
):
    token = survey_token_issue(evacuee=world.resident, actor=hq).token
    transfer(world, shelter_b, hq)
    version = Response.objects.get().version
    answers = {**k6_answers(2), "version": version.pk}

    at_a = client.post(links.survey_path(shelter_a), {**answers, "token": token, "submission_key": "at-a"})
    at_b = client.post(
        links.survey_path(shelter_b), {**answers, "token": token, "consent-survey": "given", "submission_key": "at-b"}
    )

    assert at_a.status_code == 400
    assert at_b.status_code == 302
    assert Response.objects.filter(respondent=world.resident, shelter=shelter_b).exists()
    assert SurveyToken.objects.filter(evacuee=world.resident, revoked_at__isnull=True).count() == 1


def test_the_slip_of_a_transferred_person_points_at_the_new_shelters_survey(world, shelter_b, hq, manager_b, as_user):
    survey_token_issue(evacuee=world.resident, actor=hq)
    transfer(world, shelter_b, hq)

    page = as_user(manager_b).get(reverse("surveys:slip", args=[world.resident.pk])).content.decode()

    assert links.survey_path(shelter_b) in page.replace("&amp;", "&")


def test_a_first_check_in_moves_nothing(world, shelter_a, hq):
    before = world.follow_up.shelter_id

    services.stay_check_out(stay_id=world.stay.pk, actor=hq, destination="home")
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[world.resident.pk], actor=hq)

    world.follow_up.refresh_from_db()
    assert world.follow_up.shelter_id == before
