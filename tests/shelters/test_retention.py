"""Retention: who is due for anonymisation, what anonymising blanks and keeps, the beat job, legal holds."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from access import figures
from access.models import PersonalDataAccess
from access.retention import RetentionState, retention_note, retention_of
from common.errors import ApplicationError
from common.models import AuditEntry
from common.sources import DataSource
from consent.models import ConsentDecision, ConsentRecord, ConsentSubject, subject_of
from consent.rules import Category, Context, Decision, Method, Recipient
from consent.services import Change, consents_record
from shelters import services
from shelters.models import Destination, Disaster, Evacuee, Household, Sex, Shelter, Stay, SupportNeed
from shelters.selectors import shelter_states
from shelters.services.retention import (
    evacuee_anonymise,
    legal_hold_lift,
    legal_hold_set,
    people_due_for_anonymisation,
    retention_anonymise_due,
)
from shelters.tasks import retention_anonymise
from supply.models import Item, Request
from supply.services import request_create
from surveys.follow_ups.services import follow_up_change_state
from surveys.models import FollowUp, FollowUpChange, ReportDay, Response, SurveyToken
from surveys.reports.build import ReportFilter, report_build, rollup_rebuild
from surveys.services import survey_token_issue
from tests.concurrency import run_together
from tests.factories import EvacueeFactory
from tests.surveys.follow_up_helpers import k6_answers, submit

pytestmark = pytest.mark.django_db

DAYS = 365


@pytest.fixture(autouse=True)
def retention_days(settings):
    settings.RETENTION_DAYS = DAYS


@pytest.fixture
def now():
    return timezone.now()


def stayed(person, shelter, *, now, ended_days_ago: int, days: int = 10):
    """A stay at `shelter` that ended `ended_days_ago` days ago."""
    start = now - dt.timedelta(days=ended_days_ago + days)
    result = services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[person.pk], actor=None, at=start)
    return services.stay_check_out(
        stay_id=result.stays[0].pk,
        actor=None,
        destination=Destination.HOME,
        at=now - dt.timedelta(days=ended_days_ago),
    )


def due(now):
    return people_due_for_anonymisation(now)


# --- Who is due ---------------------------------------------------------------------------------


def test_a_person_whose_last_stay_ended_longer_ago_than_the_retention_period_is_due(shelter_a, now):
    person = EvacueeFactory()
    stayed(person, shelter_a, now=now, ended_days_ago=DAYS + 1)
    assert due(now) == [person.pk]
    assert retention_of(person, now).state == RetentionState.SCHEDULED


def test_a_person_whose_stay_ended_within_the_period_is_not_due_yet_and_the_note_gives_the_date(shelter_a, now):
    person = EvacueeFactory()
    stay = stayed(person, shelter_a, now=now, ended_days_ago=DAYS - 30)
    assert due(now) == []
    found = retention_of(person, now)
    assert found.state == RetentionState.SCHEDULED
    assert found.at == stay.checked_out_at + dt.timedelta(days=DAYS)
    assert due(found.at + dt.timedelta(seconds=1)) == [person.pk]


def test_only_the_last_stay_counts(shelter_a, shelter_b, now):
    person = EvacueeFactory()
    stayed(person, shelter_a, now=now, ended_days_ago=DAYS + 200)
    stayed(person, shelter_b, now=now, ended_days_ago=10)
    assert due(now) == []


def test_the_resident_still_staying_is_never_due_and_the_note_says_so(resident, now):
    person = resident.person
    Stay.objects.filter(evacuee=person).update(checked_in_at=now - dt.timedelta(days=DAYS * 3))
    assert due(now + dt.timedelta(days=DAYS * 2)) == []
    assert retention_of(person, now).state == RetentionState.STAYING
    assert retention_note(person, now) == (
        f"避難所に滞在中です。滞在が終わり、災害が終結してから{DAYS}日後に、あなたのデータは匿名化されます。"
    )


def test_nobody_is_due_while_a_disaster_is_open(shelter_a, now):
    person = EvacueeFactory()
    stayed(person, shelter_a, now=now, ended_days_ago=DAYS * 2)
    Disaster.objects.create(name="地震", started_at=now - dt.timedelta(days=1))
    assert due(now) == []
    assert retention_of(person, now).state == RetentionState.DISASTER_OPEN
    assert "災害" in retention_note(person, now)


def test_a_disaster_the_person_stayed_through_keeps_their_data_until_a_period_after_it_closed(shelter_a, now):
    person = EvacueeFactory()
    stay = stayed(person, shelter_a, now=now, ended_days_ago=DAYS + 50, days=10)
    closed = now - dt.timedelta(days=DAYS - 20)
    Disaster.objects.create(name="水害", started_at=stay.checked_in_at - dt.timedelta(days=1), closed_at=closed)
    assert due(now) == []
    assert retention_of(person, now) == retention_of(person, now)
    assert retention_of(person, now).at == closed + dt.timedelta(days=DAYS)
    assert due(closed + dt.timedelta(days=DAYS, seconds=1)) == [person.pk]


def test_a_disaster_that_began_after_the_last_stay_ended_does_not_keep_the_data(shelter_a, now):
    person = EvacueeFactory()
    stay = stayed(person, shelter_a, now=now, ended_days_ago=DAYS + 50)
    Disaster.objects.create(
        name="後の災害", started_at=stay.checked_out_at + dt.timedelta(days=5), closed_at=now - dt.timedelta(days=3)
    )
    assert due(now) == [person.pk]


def test_a_legal_hold_keeps_the_data_until_hq_lifts_it(shelter_a, hq, now):
    person = EvacueeFactory()
    stayed(person, shelter_a, now=now, ended_days_ago=DAYS * 2)
    legal_hold_set(evacuee_id=person.pk, actor=hq, reason="訴訟対応のため保存")
    assert due(now) == []
    assert evacuee_anonymise(evacuee_id=person.pk, now=now) is False
    person.refresh_from_db()
    assert retention_of(person, now).state == RetentionState.LEGAL_HOLD
    assert "法的な保存" in retention_note(person, now)
    legal_hold_lift(evacuee_id=person.pk, actor=hq)
    assert due(now) == [person.pk]


def test_sample_and_replay_people_are_never_anonymised(shelter_a, now):
    for source in (DataSource.SAMPLE, DataSource.REPLAY):
        stayed(EvacueeFactory(source=source), shelter_a, now=now, ended_days_ago=DAYS * 2)
    assert due(now) == []


def test_someone_registered_who_never_stayed_is_due_a_period_after_registration(now):
    person = EvacueeFactory()
    assert due(now) == []
    Evacuee.objects.filter(pk=person.pk).update(created_at=now - dt.timedelta(days=DAYS + 1))
    assert due(now) == [person.pk]


# --- What anonymising does ----------------------------------------------------------------------


@pytest.fixture
def scene(shelter_a, shelter_b, hq, support_categories, now):
    """A city with history: a walk-in family who left long ago (one of them answered the survey, was
    followed up, asked for supplies), a City OS resident who left long ago, people still staying,
    and every kind of data the reports and figures read."""
    family = services.household_register(
        members=[
            services.PersonData(
                name="山田 一郎",
                name_kana="ヤマダ イチロウ",
                birth_date=dt.date(1950, 5, 5),
                sex=Sex.MALE,
                address="会津若松市追手町1-1",
                phone="0242-11-2233",
                requires_evacuation_support=True,
                support_needs={"elderly": "一人では歩けない山田さん"},
            ),
            services.PersonData(name="山田 二郎", sex=Sex.MALE),
        ],
        actor=hq,
    )
    walk_in, relative = family.members.order_by("pk")
    city_os = EvacueeFactory(city_os_id="AIZU-LEFT-0001", birth_date=dt.date(1970, 1, 1), sex=Sex.FEMALE)
    staying = [EvacueeFactory() for _ in range(3)]

    start = now - dt.timedelta(days=DAYS + 60)
    checked_in = services.stay_check_in(
        shelter_id=shelter_a.pk, evacuee_ids=[walk_in.pk, relative.pk, city_os.pk], actor=hq, at=start
    )
    answers = k6_answers(18) | {
        "needs": ["water", "other"],
        "needs_water_quantity": 3,
        "needs_other_text": "山田一郎の入れ歯洗浄剤",
        "issue_toilets": 3,
        "comment": "山田です。隣の佐藤さんがうるさい",
    }
    response, _created = submit(shelter_a, answers, respondent=walk_in, answered_at=start + dt.timedelta(days=2))
    submit(shelter_a, k6_answers(6), respondent=city_os, answered_at=start + dt.timedelta(days=2))
    case = FollowUp.objects.get(evacuee=walk_in)
    follow_up_change_state(follow_up_id=case.pk, to_state="contacted", actor=hq, note="山田さんの娘に電話した")
    follow_up_change_state(follow_up_id=case.pk, to_state="closed", actor=hq, note="")
    request_create(
        shelter=shelter_a,
        item=Item.objects.order_by("pk").first(),
        actor=hq,
        quantity=1,
        evacuee=walk_in,
        detail="山田さん用の介護食",
    )
    survey_token_issue(evacuee=walk_in, actor=hq)
    consents_record(
        subject=subject_of(walk_in),
        changes=[Change(Category.BASIC, Recipient.SHELTER_STAFF, Context.DISASTER, Decision.GIVEN)],
        method=Method.DESK,
        collected_by=hq,
    )
    consents_record(
        subject=subject_of(city_os),
        changes=[Change(Category.SUPPORT, Recipient.HEALTH, Context.DISASTER, Decision.REFUSED)],
        method=Method.CITY_OS,
    )
    for stay in checked_in.stays:
        services.stay_check_out(
            stay_id=stay.pk, actor=hq, destination=Destination.HOME, at=start + dt.timedelta(days=20)
        )
    # The relative came back later and still stays; others stay at both shelters.
    services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[relative.pk], actor=hq)
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[p.pk for p in staying[:2]], actor=hq)
    services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[staying[2].pk], actor=hq)
    submit(shelter_a, k6_answers(14), respondent=staying[0])
    submit(shelter_b, k6_answers(3))
    # Reads recorded against the people who will be anonymised.
    from access import people

    people.access_evacuee_by_id(hq, walk_in.pk, purpose="page.evacuee_detail")
    people.access_evacuee_by_id(hq, city_os.pk, purpose="page.evacuee_detail")
    return {"walk_in": walk_in, "relative": relative, "city_os": city_os, "response": response, "family": family}


def every_aggregate(now, hq) -> dict:
    """Every count, figure and report the site shows, computed afresh."""
    shelter_ids = list(Shelter.objects.values_list("pk", flat=True))
    since = now - dt.timedelta(days=DAYS * 2)
    today = timezone.localdate(now)
    window = ReportFilter(start=today - dt.timedelta(days=DAYS * 2), end=today)
    return {
        "support_counts": figures.support_counts_by_shelter(shelter_ids=shelter_ids),
        "support_people": figures.support_people_by_shelter(shelter_ids=shelter_ids),
        "open_follow_ups": figures.open_follow_up_counts(shelter_ids=shelter_ids),
        "stays_inside": figures.stays_inside_between(shelter_ids=None, since=since, now=now, bucket_seconds=3600),
        "responses": figures.response_figures(start=since, end=now + dt.timedelta(minutes=1)),
        "survey_needs": figures.survey_needs_not_received(),
        "waiting_requests": figures.waiting_request_totals(),
        "shelter_states": shelter_states(shelter_ids=shelter_ids),
        "report_exact": report_build(filters=window, visible_shelter_ids=None, suppressed=False, today=today),
        "report_officials": report_build(filters=window, visible_shelter_ids=None, suppressed=True, today=today),
        "report_days": sorted(ReportDay.objects.values_list("shelter_id", "day", "responses", "k6_sum", "needs")),
        "rows": {
            model.__name__: model.objects.count()
            for model in (
                Evacuee,
                Stay,
                Household,
                SupportNeed,
                Response,
                FollowUp,
                FollowUpChange,
                Request,
                PersonalDataAccess,
                ConsentRecord,
            )
        },
        "audit_entries": set(AuditEntry.objects.values_list("pk", flat=True)),
        "reads": sorted(PersonalDataAccess.objects.values_list("evacuee_id", "purpose", "basis")),
    }


def test_anonymising_keeps_every_count_report_and_figure_identical(scene, hq, now):
    later = now + dt.timedelta(days=1)
    before = every_aggregate(later, hq)
    assert due(later) == sorted([scene["walk_in"].pk, scene["city_os"].pk])

    run = retention_anonymise_due(now=later)

    assert run.anonymised == 2
    after = every_aggregate(later, hq)
    new_audit = after.pop("audit_entries") - before["audit_entries"]
    assert before.pop("audit_entries") <= set(AuditEntry.objects.values_list("pk", flat=True))
    assert sorted(AuditEntry.objects.filter(pk__in=new_audit).values_list("action", flat=True)) == [
        "person.anonymised",
        "person.anonymised",
        "retention.run",
    ]
    assert after == before
    # The day totals rebuilt from the anonymised answers are the same as the ones kept.
    rollup_rebuild()
    assert (
        sorted(ReportDay.objects.values_list("shelter_id", "day", "responses", "k6_sum", "needs"))
        == (before["report_days"])
    )


def test_anonymising_blanks_every_personal_field_and_free_text_that_can_name_the_person(scene, now):
    walk_in = scene["walk_in"]
    subject = subject_of(walk_in)
    assert evacuee_anonymise(evacuee_id=walk_in.pk, now=now + dt.timedelta(days=1)) is True

    person = Evacuee.objects.get(pk=walk_in.pk)
    assert (person.name, person.name_kana, person.birth_date, person.address, person.phone) == ("", "", None, "", "")
    assert person.sex == Sex.UNKNOWN
    assert person.city_os_id is None
    assert person.household_id is None
    assert person.anonymised_at == now + dt.timedelta(days=1)
    assert person.walk_in_id  # the local id stays: it names nobody
    scene["family"].refresh_from_db()
    assert scene["family"].representative_id is None
    assert list(SupportNeed.objects.filter(evacuee=person).values_list("category__code", "notes")) == [("elderly", "")]
    response = Response.objects.get(pk=scene["response"].pk)
    assert "needs_other_text" not in response.answers and "comment" not in response.answers
    assert response.answers["needs_water_quantity"] == 3 and response.answers["issue_toilets"] == 3
    assert response.k6_score == 18
    assert set(FollowUpChange.objects.filter(follow_up__evacuee=person).values_list("note", flat=True)) == {""}
    assert set(Request.objects.filter(evacuee=person).values_list("detail", flat=True)) == {""}
    assert not SurveyToken.objects.filter(evacuee=person, revoked_at__isnull=True).exists()
    # A walk-in's ledger has nobody left to decide for: its decisions go, its receipts stay.
    assert not ConsentDecision.objects.filter(subject=subject).exists()
    assert not ConsentSubject.objects.filter(key=subject).exists()
    assert ConsentRecord.objects.filter(subject=subject).count() == 1
    # Nothing of the person is left anywhere in their row.
    values = Evacuee.objects.filter(pk=walk_in.pk).values().get()
    for text in ("山田", "ヤマダ", "追手町", "0242-11-2233", "1950"):
        assert text not in str(values)
    entry = AuditEntry.objects.get(action="person.anonymised", object_id=str(walk_in.pk))
    assert entry.details == {
        "changed": {
            "support_need_notes": 1,
            "consent_decisions": 1,
            "survey_free_text_answers": 1,
            "follow_up_notes": 1,
            "survey_tokens_revoked": 1,
            "supply_request_details": 2,  # the one staff filed and the survey's "other" need
        }
    }
    assert "山田" not in str(entry.details)


def test_a_city_os_residents_consent_ledger_stays_theirs(scene, now):
    resident = scene["city_os"]
    subject = subject_of(resident)
    evacuee_anonymise(evacuee_id=resident.pk, now=now + dt.timedelta(days=1))
    assert Evacuee.objects.get(pk=resident.pk).city_os_id is None
    assert ConsentDecision.objects.filter(subject=subject).count() == 1
    assert ConsentSubject.objects.filter(key=subject).exists()


def test_anonymising_twice_changes_nothing_the_second_time(scene, now):
    later = now + dt.timedelta(days=1)
    assert evacuee_anonymise(evacuee_id=scene["walk_in"].pk, now=later) is True
    anonymised = Evacuee.objects.values().get(pk=scene["walk_in"].pk)
    audits = AuditEntry.objects.count()
    assert evacuee_anonymise(evacuee_id=scene["walk_in"].pk, now=later + dt.timedelta(days=1)) is False
    assert retention_anonymise_due(now=later + dt.timedelta(days=1)).anonymised == 1  # the City OS resident only
    assert retention_anonymise_due(now=later + dt.timedelta(days=2)).anonymised == 0
    assert Evacuee.objects.values().get(pk=scene["walk_in"].pk) == anonymised
    assert AuditEntry.objects.count() == audits + 2  # the other person and that run


def test_a_person_not_due_is_left_alone(scene, now):
    relative = scene["relative"]  # staying at shelter B
    assert evacuee_anonymise(evacuee_id=relative.pk, now=now + dt.timedelta(days=DAYS * 3)) is False
    assert Evacuee.objects.get(pk=relative.pk).name == "山田 二郎"


def test_an_anonymised_person_can_no_longer_be_checked_in_changed_or_held(scene, shelter_a, hq, now):
    walk_in = scene["walk_in"]
    evacuee_anonymise(evacuee_id=walk_in.pk, now=now + dt.timedelta(days=1))
    with pytest.raises(ApplicationError) as refused:
        services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[walk_in.pk], actor=hq)
    assert refused.value.code == "anonymised"
    with pytest.raises(ApplicationError):
        services.evacuee_update(evacuee_id=walk_in.pk, actor=hq, changes={"name": "山田 一郎"})
    with pytest.raises(ApplicationError):
        legal_hold_set(evacuee_id=walk_in.pk, actor=hq, reason="遅すぎた")
    assert retention_of(Evacuee.objects.get(pk=walk_in.pk)).state == RetentionState.ANONYMISED


# --- The beat job -------------------------------------------------------------------------------


def people_left_long_ago(shelter, count: int, *, now) -> list[int]:
    people = [EvacueeFactory() for _ in range(count)]
    start = now - dt.timedelta(days=DAYS + 30)
    result = services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[p.pk for p in people], actor=None, at=start)
    for stay in result.stays:
        services.stay_check_out(stay_id=stay.pk, actor=None, destination=Destination.HOME, at=start)
    return [p.pk for p in people]


def test_the_beat_task_anonymises_everyone_due_in_bounded_batches_and_audits_it(shelter_a, settings, now):
    settings.RETENTION_BATCH_SIZE = 3
    settings.RETENTION_MAX_PER_RUN = 5
    ids = people_left_long_ago(shelter_a, 7, now=now)
    kept = EvacueeFactory()

    assert retention_anonymise.apply().get() == {"anonymised": 5, "batches": 2}
    assert retention_anonymise.apply().get() == {"anonymised": 2, "batches": 1}
    assert retention_anonymise.apply().get() == {"anonymised": 0, "batches": 0}

    assert Evacuee.objects.filter(pk__in=ids, anonymised_at__isnull=False, name="").count() == 7
    assert Evacuee.objects.get(pk=kept.pk).anonymised_at is None
    assert AuditEntry.objects.filter(action="person.anonymised").count() == 7
    assert list(AuditEntry.objects.filter(action="retention.run").order_by("pk").values_list("details", flat=True)) == [
        {"anonymised": 5, "batches": 2, "retention_days": DAYS},
        {"anonymised": 2, "batches": 1, "retention_days": DAYS},
    ]


def test_the_beat_schedule_runs_the_retention_task(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["retention-anonymise"]
    assert entry["task"] == "shelters.tasks.retention_anonymise"
    assert entry["task"] in app.tasks


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_never_anonymise_the_same_person_twice(settings, now):
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED need PostgreSQL")
    from tests.factories import ShelterFactory

    settings.RETENTION_BATCH_SIZE = 5
    shelter = ShelterFactory()
    ids = people_left_long_ago(shelter, 40, now=now)

    results = run_together(retention_anonymise_due, retention_anonymise_due)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.anonymised for r in results) == 40
    assert Evacuee.objects.filter(pk__in=ids, anonymised_at__isnull=False).count() == 40
    anonymised = list(AuditEntry.objects.filter(action="person.anonymised").values_list("object_id", flat=True))
    assert sorted(anonymised) == sorted(str(pk) for pk in ids)  # each exactly once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_check_in_and_the_retention_job_at_once_leave_the_person_either_staying_or_anonymised(now):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    from tests.factories import ShelterFactory

    shelter = ShelterFactory()
    for _attempt in range(5):
        (person_id,) = people_left_long_ago(shelter, 1, now=now)
        results = run_together(
            lambda pk=person_id: evacuee_anonymise(evacuee_id=pk),
            lambda pk=person_id: services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[pk], actor=None),
        )
        person = Evacuee.objects.get(pk=person_id)
        staying = Stay.objects.filter(evacuee_id=person_id, checked_out_at__isnull=True).exists()
        assert staying != (person.anonymised_at is not None), results
        if staying:
            assert person.name and results[0] is False
        else:
            assert isinstance(results[1], ApplicationError) and results[1].code == "anonymised"


# --- Legal hold ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager_a", "official", "resident", None])
def test_only_hq_may_set_or_lift_a_legal_hold(request, persona, shelter_a):
    person = EvacueeFactory()
    actor = request.getfixturevalue(persona) if persona else None
    with pytest.raises(ApplicationError) as refused:
        legal_hold_set(evacuee_id=person.pk, actor=actor, reason="理由")
    assert refused.value.status_code == 403
    hq = request.getfixturevalue("hq")
    legal_hold_set(evacuee_id=person.pk, actor=hq, reason="理由")
    with pytest.raises(ApplicationError):
        legal_hold_lift(evacuee_id=person.pk, actor=actor)
    assert Evacuee.objects.get(pk=person.pk).legal_hold_at is not None


def test_a_legal_hold_needs_a_reason_within_bounds_and_is_audited_without_it(hq):
    person = EvacueeFactory()
    for reason, message in (("  ", "Say why"), ("x" * 501, "under 500"), ("a\x00b", "NUL characters")):
        with translation.override("en"):
            with pytest.raises(ApplicationError) as refused:
                legal_hold_set(evacuee_id=person.pk, actor=hq, reason=reason)
            assert refused.value.field == "reason"
            assert message in str(refused.value.message)
    held = legal_hold_set(evacuee_id=person.pk, actor=hq, reason="被災者台帳の審査中")
    assert (held.legal_hold_reason, held.legal_hold_by) == ("被災者台帳の審査中", hq)
    legal_hold_lift(evacuee_id=person.pk, actor=hq)
    with pytest.raises(ApplicationError):
        legal_hold_lift(evacuee_id=person.pk, actor=hq)
    entries = list(AuditEntry.objects.filter(object_type="evacuee", object_id=str(person.pk)).order_by("pk"))
    assert [e.action for e in entries] == ["person.legal_hold_set", "person.legal_hold_lifted"]
    assert "被災者台帳" not in str([e.details for e in entries])


def test_the_database_refuses_a_hold_without_a_reason_or_on_anonymised_data(hq):
    from django.db import IntegrityError, transaction

    person = EvacueeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Evacuee.objects.filter(pk=person.pk).update(legal_hold_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Evacuee.objects.filter(pk=person.pk).update(
            legal_hold_at=timezone.now(), legal_hold_reason="x", anonymised_at=timezone.now()
        )


def test_hq_sets_and_lifts_a_hold_on_the_person_page_and_a_manager_gets_no_button(
    as_user, hq, manager_a, resident, other_resident
):
    person = resident.person
    url = reverse("shelters:legal_hold", args=[person.pk])
    page = as_user(manager_a).get(reverse("shelters:evacuee", args=[person.pk]))
    assert page.status_code == 200 and url not in page.content.decode()
    assert as_user(manager_a).post(url, {"action": "set", "reason": "x"}).status_code == 403
    assert as_user(resident).post(url, {"action": "set", "reason": "x"}).status_code in (302, 403)

    page = as_user(hq).get(reverse("shelters:evacuee", args=[person.pk]))
    assert url in page.content.decode()
    answer = as_user(hq).post(url, {"action": "set", "reason": "訴訟のため"})
    assert answer.status_code == 302
    assert Evacuee.objects.get(pk=person.pk).legal_hold_reason == "訴訟のため"
    page = as_user(hq).get(reverse("shelters:evacuee", args=[person.pk])).content.decode()
    assert "訴訟のため" in page
    as_user(hq).post(url, {"action": "lift"})
    assert Evacuee.objects.get(pk=person.pk).legal_hold_at is None
    assert Evacuee.objects.get(pk=other_resident.person.pk).legal_hold_at is None


def test_a_refused_hold_on_the_page_says_why_and_changes_nothing(as_user, hq, resident):
    url = reverse("shelters:legal_hold", args=[resident.person.pk])
    answer = as_user(hq).post(url, {"action": "set", "reason": ""}, follow=True)
    assert answer.status_code == 200
    assert "保存する理由を入力してください" in answer.content.decode()
    assert Evacuee.objects.get(pk=resident.person.pk).legal_hold_at is None


# --- Notes on the resident's page ----------------------------------------------------------------


def test_the_note_gives_the_date_in_the_residents_language(shelter_a, now):
    from django.utils import translation

    person = EvacueeFactory()
    stayed(person, shelter_a, now=now, ended_days_ago=10)
    expected = timezone.localtime(now - dt.timedelta(days=10) + dt.timedelta(days=DAYS)).date()
    assert (
        retention_note(person, now)
        == f"避難所が保有するあなたのデータは、{expected:%Y年%-m月%-d日}以降に匿名化されます。"
    )
    with translation.override("en"):
        note = retention_note(person, now)
    assert note.startswith("Your data held by the shelters will be anonymised on or after ")


def test_the_note_for_sample_data_and_for_no_person(now):
    assert retention_note(None) is None
    assert "サンプル" in retention_note(EvacueeFactory(source=DataSource.SAMPLE), now)


def test_the_other_resident_is_staying_too(other_resident):
    assert retention_of(other_resident.person).state == RetentionState.STAYING
    assert other_resident.person.city_os_id == other_resident.city_os_id


def test_the_residents_own_page_says_when_their_data_will_be_anonymised(as_user, resident, other_resident):
    page = as_user(resident).get(reverse("me:index")).content.decode()
    assert f"滞在が終わり、災害が終結してから{DAYS}日後に、あなたのデータは匿名化されます" in page
    Stay.objects.filter(evacuee=resident.person).update(
        checked_in_at=timezone.now() - dt.timedelta(days=20),
        checked_out_at=timezone.now() - dt.timedelta(days=10),
        destination=Destination.HOME,
    )
    page = as_user(resident).get(reverse("me:index")).content.decode()
    expected = timezone.localdate() - dt.timedelta(days=10) + dt.timedelta(days=DAYS)
    assert f"{expected:%Y年%-m月%-d日}以降に匿名化されます" in page


def test_what_a_resident_wrote_in_a_correction_request_is_blanked_and_the_request_kept(scene, now):
    from residents.models import CorrectionRequest
    from residents.services import correction_request_create
    from tests.factories import UserFactory

    person = scene["city_os"]
    user = UserFactory(username="left-resident", role="", city_os_id=person.city_os_id)
    request = correction_request_create(
        user=user, evacuee_id=person.pk, field="name", message="名前の漢字が違います。正しくは山田です"
    )

    assert evacuee_anonymise(evacuee_id=person.pk, now=now + dt.timedelta(days=1)) is True

    kept = CorrectionRequest.objects.get(pk=request.pk)
    assert (kept.message, kept.field, kept.state) == ("", "name", "open")
    entry = AuditEntry.objects.get(action="person.anonymised", object_id=str(person.pk))
    assert entry.details["changed"]["correction_messages"] == 1
