"""The City OS opt-in copied into the consent ledger: newer answers applied, older ones ignored, the
last writer by time winning cell by cell, each change a consent record with method city_os."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from cityos import client, sync, tasks
from consent.models import ConsentDecision, ConsentRecord, ConsentSubject
from consent.rules import Method
from consent.services import Change, consents_record
from shelters import services
from tests.factories import EvacueeFactory, UserFactory
from tests.system import free_port

YAMADA, SPOUSE, CHILD, ELDERLY, REFUSED, LOCATION = (f"AIZU-SANDBOX-000{n}" for n in range(1, 7))
RESIDENT = "AIZU-TEST-0100"
pytestmark = pytest.mark.django_db

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def opt_in(updated_at, *decisions, timing="once", city_os_id=RESIDENT) -> client.OptIn:
    return client.OptIn(
        city_os_id=city_os_id,
        timing=timing,
        updated_at=updated_at,
        decisions=[client.Decision(*cell, decision=decision, at=at) for (*cell, decision, at) in decisions],
    )


def ledger(city_os_id=RESIDENT) -> dict:
    return {
        (d.category, d.recipient, d.context): d.decision
        for d in ConsentDecision.objects.filter(subject=f"cityos:{city_os_id}")
    }


# --- The rule, on answers as the client returns them -------------------------------------------------


def test_a_newer_answer_is_applied_with_a_record_of_method_city_os():
    result = sync.consents_apply(opt_in=opt_in(T0, ("basic", "shelter_staff", "disaster", "given", T0)))

    assert result.applied
    assert result.record.method == Method.CITY_OS and result.record.collected_by is None
    assert result.record.at == T0
    assert result.record.changes == [
        {
            "category": "basic",
            "recipient": "shelter_staff",
            "context": "disaster",
            "decision": "given",
            "was": "not_asked",
        }
    ]
    assert ledger() == {("basic", "shelter_staff", "disaster"): "given"}
    assert ConsentSubject.objects.get(key=f"cityos:{RESIDENT}").city_os_synced_at == T0


def test_an_answer_no_newer_than_the_last_applied_is_ignored():
    sync.consents_apply(opt_in=opt_in(T0, ("basic", "shelter_staff", "disaster", "given", T0)))

    older = sync.consents_apply(
        opt_in=opt_in(
            T0 - timedelta(hours=1), ("basic", "shelter_staff", "disaster", "refused", T0 - timedelta(hours=1))
        )
    )
    same = sync.consents_apply(opt_in=opt_in(T0, ("basic", "shelter_staff", "disaster", "refused", T0)))

    assert not older.applied and not same.applied
    assert ledger() == {("basic", "shelter_staff", "disaster"): "given"}
    assert ConsentRecord.objects.count() == 1


def test_a_later_change_on_the_residents_page_wins_over_an_earlier_one_at_the_city_os():
    consents_record(
        subject=f"cityos:{RESIDENT}",
        changes=[Change("location", "hq", "disaster", "refused")],
        method=Method.RESIDENT_PAGE,
        at=T0 + timedelta(hours=2),
    )

    result = sync.consents_apply(
        opt_in=opt_in(
            T0 + timedelta(hours=3),
            ("location", "hq", "disaster", "given", T0 + timedelta(hours=1)),
            ("basic", "hq", "disaster", "given", T0 + timedelta(hours=1)),
        )
    )

    assert result.applied
    assert ledger() == {("location", "hq", "disaster"): "refused", ("basic", "hq", "disaster"): "given"}


def test_a_later_change_at_the_city_os_wins_over_an_earlier_one_here():
    consents_record(
        subject=f"cityos:{RESIDENT}",
        changes=[Change("location", "hq", "disaster", "refused")],
        method=Method.RESIDENT_PAGE,
        at=T0,
    )

    sync.consents_apply(
        opt_in=opt_in(T0 + timedelta(hours=1), ("location", "hq", "disaster", "given", T0 + timedelta(hours=1)))
    )

    assert ledger() == {("location", "hq", "disaster"): "given"}
    assert ConsentRecord.objects.filter(method=Method.CITY_OS).count() == 1


def test_a_withdrawal_at_the_city_os_takes_back_what_it_gave_but_not_what_was_said_here():
    sync.consents_apply(opt_in=opt_in(T0, ("support", "supporters", "disaster", "given", T0)))
    consents_record(
        subject=f"cityos:{RESIDENT}",
        changes=[Change("contact", "shelter_staff", "disaster", "given")],
        method=Method.DESK,
        at=T0 + timedelta(minutes=5),
    )

    sync.consents_apply(opt_in=opt_in(T0 + timedelta(hours=1)))

    assert ledger() == {("contact", "shelter_staff", "disaster"): "given"}


def test_the_timing_preference_follows_the_last_writer_too():
    sync.consents_apply(opt_in=opt_in(T0, timing="every_time"))
    assert ConsentSubject.objects.get(key=f"cityos:{RESIDENT}").timing == "every_time"

    consents_record(
        subject=f"cityos:{RESIDENT}", changes=[], method=Method.RESIDENT_PAGE, timing="once", at=T0 + timedelta(hours=2)
    )
    sync.consents_apply(opt_in=opt_in(T0 + timedelta(hours=1), timing="new_data"))
    assert ConsentSubject.objects.get(key=f"cityos:{RESIDENT}").timing == "once"

    sync.consents_apply(opt_in=opt_in(T0 + timedelta(hours=3), timing="new_data"))
    assert ConsentSubject.objects.get(key=f"cityos:{RESIDENT}").timing == "new_data"


# --- Against the sandbox ------------------------------------------------------------------------------


def test_the_sandbox_opt_in_is_applied_once(city_os):
    first = sync.consents_sync(city_os_id=ELDERLY)
    again = sync.consents_sync(city_os_id=ELDERLY)

    assert first.applied and first.record.method == Method.CITY_OS
    assert not again.applied
    assert ledger(ELDERLY)[("support", "supporters", "peacetime")] == "given"
    assert ledger(ELDERLY)[("location", "hq", "disaster")] == "given"
    assert ConsentSubject.objects.get(key=f"cityos:{ELDERLY}").timing == "every_time"
    assert ConsentRecord.objects.filter(subject=f"cityos:{ELDERLY}").count() == 1


def test_signing_in_with_the_city_os_applies_the_opt_in(city_os, as_user, client):
    resident = UserFactory(username="cityos-elderly", role="", city_os_id=ELDERLY)

    client.force_login(resident, backend="cityos.auth.CityOSBackend")

    assert ConsentRecord.objects.filter(subject=f"cityos:{ELDERLY}", method=Method.CITY_OS).exists()


def test_a_password_login_does_not_wait_on_the_city_os(city_os, client):
    staff = UserFactory(username="linked-staff", city_os_id=ELDERLY)

    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")

    assert not ConsentRecord.objects.exists()


def test_a_sign_in_goes_on_when_the_city_os_is_out_of_reach(city_os, settings, client):
    settings.CITYOS_OPTIN_URL = f"http://127.0.0.1:{free_port()}/api/optin"
    resident = UserFactory(username="cityos-elderly", role="", city_os_id=ELDERLY)

    client.force_login(resident, backend="cityos.auth.CityOSBackend")

    assert not ConsentRecord.objects.exists()
    assert client.session["_auth_user_id"] == str(resident.pk)


def test_beat_applies_the_opt_in_of_people_staying_in_bounded_batches(city_os, shelter_a, hq):
    cache.delete(tasks.SYNC_CURSOR_KEY)
    people = [EvacueeFactory(city_os_id=i) for i in (ELDERLY, "AIZU-UNKNOWN-0999", LOCATION)]
    EvacueeFactory(city_os_id=YAMADA)  # staying nowhere: not synced
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[p.pk for p in people], actor=hq)

    first = tasks.consents_sync_staying(batch=2)
    second = tasks.consents_sync_staying(batch=2)

    assert first == {"checked": 2, "applied": 1}  # the City OS does not know the second one
    assert second == {"checked": 1, "applied": 1}
    assert {r.subject for r in ConsentRecord.objects.all()} == {f"cityos:{ELDERLY}", f"cityos:{LOCATION}"}
    assert tasks.consents_sync_staying(batch=5) == {"checked": 3, "applied": 0}  # round again: nothing new


def test_beat_stops_its_batch_when_the_city_os_is_out_of_reach(city_os, settings, shelter_a, hq):
    cache.delete(tasks.SYNC_CURSOR_KEY)
    people = [EvacueeFactory(city_os_id=i) for i in (ELDERLY, LOCATION)]
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[p.pk for p in people], actor=hq)
    settings.CITYOS_OPTIN_URL = f"http://127.0.0.1:{free_port()}/api/optin"

    assert tasks.consents_sync_staying(batch=10) == {"checked": 0, "applied": 0}
    assert not ConsentRecord.objects.exists()
