"""Sample data and a replay are removed by one mechanism: `common.sources.source_rows_remove`, with
each app's remover run in dependency order, and real rows stay as they were."""

import dataclasses
import uuid

import pytest
from django.db.models import Q

from common import sources
from common.sources import DataSource, source_rows_registered, source_rows_remove
from notifications.models import Notification, NotificationKind
from notifications.services import notification_create
from shelters import replay
from shelters.demo import demo_load
from shelters.models import Evacuee, Shelter, ShelterStatus, Stay
from shelters.services import PersonData, household_register, stay_check_in
from supply.models import Item, Request
from supply.services import request_create
from surveys.models import FollowUp, Response, ResponseChannel, SurveyVersion
from surveys.services import response_submit
from tests.factories import ShelterFactory
from tests.surveys.conftest import k6_answers

pytestmark = pytest.mark.django_db

REMOVAL_ORDER = ["supply", "surveys", "notifications", "shelters"]


@pytest.fixture
def removers_called(monkeypatch):
    """Every registered remover, still doing its work, noting (app, source) when it runs."""
    calls: list[tuple[str, str]] = []
    for app, rows in list(sources._registry.items()):

        def remove(removal, rows=rows):
            calls.append((rows.app, removal.source))
            return rows.remove(removal)

        monkeypatch.setitem(sources._registry, app, dataclasses.replace(rows, remove=remove))
    return calls


def person(source=DataSource.REAL, name="会津 花子") -> Evacuee:
    return household_register(members=[PersonData(name=name)], actor=None, source=source).representative


def answer(shelter, *, respondent=None, source=DataSource.REAL, distressed=False) -> Response:
    version = SurveyVersion.objects.get(survey__code="evacuation-life", is_current=True)
    response, _created = response_submit(
        version=version,
        shelter=shelter,
        raw_answers=k6_answers([4] * 6 if distressed else [1] * 6),
        channel=ResponseChannel.PROXY if respondent else ResponseChannel.PHONE,
        submission_key=uuid.uuid4().hex,
        respondent=respondent,
        source=source,
    )
    return response


def real_world() -> dict:
    shelter = ShelterFactory(source=DataSource.REAL, capacity=2)
    resident = person()
    stay_check_in(shelter_id=shelter.pk, evacuee_ids=[resident.pk], actor=None)
    response = answer(shelter, respondent=resident, distressed=True)
    request = request_create(shelter=shelter, item=Item.objects.first(), actor=None, quantity=3, evacuee=resident)
    notification = notification_create(shelter_id=shelter.pk, kind=NotificationKind.SYSTEM, title="本物のお知らせ")
    return {
        "shelter": shelter,
        "resident": resident,
        "response": response,
        "request": request,
        "notification": notification,
    }


def replay_world(real_shelter: Shelter) -> None:
    shelter = ShelterFactory(source=DataSource.REPLAY)
    resident = person(DataSource.REPLAY, "再現避難者 0001")
    stay_check_in(shelter_id=shelter.pk, evacuee_ids=[resident.pk], actor=None, source=DataSource.REPLAY)
    # Someone of the replay seated by hand at a real shelter, who fills it: the removal must check
    # them out so the real shelter's figures (and its 満員) come right.
    visitor = person(DataSource.REPLAY, "再現避難者 0002")
    stay_check_in(shelter_id=real_shelter.pk, evacuee_ids=[visitor.pk], actor=None)
    answer(shelter, respondent=resident, source=DataSource.REPLAY, distressed=True)
    request_create(shelter=shelter, item=Item.objects.first(), actor=None, quantity=2, source=DataSource.REPLAY)
    notification_create(shelter_id=shelter.pk, kind=NotificationKind.SUPPLY, title="再現")


def test_the_removers_run_in_dependency_order_those_that_refer_to_others_first():
    assert [rows.app for rows in reversed(source_rows_registered())] == REMOVAL_ORDER


def test_demo_reset_and_replay_clear_run_the_same_removers_and_leave_real_rows_untouched(removers_called):
    real = real_world()
    demo_load()
    replay_world(real["shelter"])
    real["shelter"].refresh_from_db()
    assert (real["shelter"].occupancy, real["shelter"].status) == (2, ShelterStatus.FULL)
    removers_called.clear()

    demo_load(reset=True)
    on_reset = list(removers_called)
    removers_called.clear()
    replay.replay_clear()

    assert on_reset == [(app, DataSource.SAMPLE) for app in REMOVAL_ORDER]
    assert removers_called == [(app, DataSource.REPLAY) for app in REMOVAL_ORDER]
    # Nothing of the replay is left; the sample data was loaded again after the reset.
    for model in (Shelter, Evacuee, Stay, Response, Request):
        assert not model.objects.filter(source=DataSource.REPLAY).exists(), model
    assert not Notification.objects.filter(title="再現").exists()
    assert Evacuee.objects.filter(source=DataSource.SAMPLE).exists()
    # The real rows are as they were: the shelter, its resident still checked in, the answer, the
    # follow-up it opened, the request and the notification; the visitor's check-out lifted 満員.
    real["shelter"].refresh_from_db()
    assert (real["shelter"].occupancy, real["shelter"].status) == (1, ShelterStatus.OPEN)
    assert real["resident"].stays.get().checked_out_at is None
    assert Response.objects.filter(pk=real["response"].pk).exists()
    assert FollowUp.objects.filter(evacuee=real["resident"]).exists()
    assert Request.objects.filter(pk=real["request"].pk).exists()
    assert Notification.objects.filter(pk=real["notification"].pk).exists()
    assert set(Evacuee.objects.exclude(source=DataSource.SAMPLE).values_list("pk", flat=True)) == {real["resident"].pk}


def test_sample_shelters_are_kept_and_put_back_to_standby_while_replay_shelters_go():
    sample_shelter = ShelterFactory(source=DataSource.SAMPLE)
    replay_shelter = ShelterFactory(source=DataSource.REPLAY)
    stay_check_in(
        shelter_id=sample_shelter.pk, evacuee_ids=[person(DataSource.SAMPLE).pk], actor=None, source=DataSource.SAMPLE
    )

    source_rows_remove(source=DataSource.SAMPLE)
    source_rows_remove(source=DataSource.REPLAY)

    sample_shelter.refresh_from_db()
    assert (sample_shelter.status, sample_shelter.occupancy) == (ShelterStatus.STANDBY, 0)
    assert not Shelter.objects.filter(pk=replay_shelter.pk).exists()
    assert not Evacuee.objects.filter(Q(source=DataSource.SAMPLE) | Q(source=DataSource.REPLAY)).exists()


def test_real_rows_cannot_be_removed_this_way():
    with pytest.raises(ValueError, match="real"):
        source_rows_remove(source=DataSource.REAL)


def test_apps_that_depend_on_each_other_in_a_circle_are_refused(monkeypatch):
    monkeypatch.setattr(sources, "_registry", {})
    sources.source_rows_register(app="a", depends_on=("b",))
    sources.source_rows_register(app="b", depends_on=("a",))
    with pytest.raises(RuntimeError, match="circle"):
        source_rows_registered()
