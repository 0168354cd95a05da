"""Disasters and legal-basis releases: declared by HQ, bounded, audited with the article, ended by
expiry, revocation or the disaster closing (enforced when read; beat records each end once)."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from access import consent as access_consent
from access import people
from access.models import PersonalDataAccess
from access.releases import releases_touching
from common.errors import ApplicationError
from common.models import AuditEntry
from consent.models import LegalRelease
from consent.rules import ReleaseScope
from consent.services import release_declare, release_revoke, releases_end
from consent.tasks import consent_releases_end
from shelters import services
from tests.consent import helpers


@pytest.fixture
def disaster(hq):
    return helpers.open_disaster(hq)


def declare(hq, disaster, **changes):
    arguments = {
        "disaster_id": disaster.pk,
        "rule": "roster_disaster_release",
        "categories": ["basic"],
        "recipients": ["supporters"],
        "scope": ReleaseScope.ROSTER,
        "shelter_ids": [],
        "reason": "安否確認のため",
        "hours": 24,
        "actor": hq,
    }
    arguments.update(changes)
    return release_declare(**arguments)


# --- Declaring ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rule": "shelter_operation"}, "rule"),
        ({"rule": "no_such_rule"}, "rule"),
        ({"categories": ["survey"]}, "categories"),
        ({"categories": []}, "categories"),
        ({"categories": [["basic"]]}, "categories"),
        ({"recipients": ["family"]}, "recipients"),
        ({"rule": "life_protection", "categories": ["stays"]}, "categories"),
        ({"scope": "everyone"}, "scope"),
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"hours": 0}, "hours"),
        ({"hours": 7 * 24 + 1}, "hours"),
        ({"hours": True}, "hours"),
        ({"hours": None, "expires_at": None}, "expires_at"),
        ({"hours": 3, "expires_at": timedelta(hours=3)}, "expires_at"),
        ({"hours": None, "expires_at": -timedelta(minutes=1)}, "expires_at"),
        ({"hours": None, "expires_at": timedelta(days=7, minutes=5)}, "expires_at"),
        ({"shelter_ids": [999999]}, "shelters"),
        ({"shelter_ids": [2**70]}, "shelters"),
    ],
)
def test_a_bad_release_is_refused_naming_the_field(hq, disaster, changes, field):
    if isinstance(changes.get("expires_at"), timedelta):  # relative to when the test runs
        changes = {**changes, "expires_at": timezone.now() + changes["expires_at"]}
    with pytest.raises(ApplicationError) as raised:
        declare(hq, disaster, **changes)
    assert raised.value.field == field
    assert not LegalRelease.objects.exists()


def test_a_release_needs_an_open_disaster(hq, disaster):
    services.disaster_close(disaster_id=disaster.pk, actor=hq)
    with pytest.raises(ApplicationError) as raised:
        declare(hq, disaster)
    assert raised.value.field == "disaster"


def test_a_rule_the_deployment_does_not_enable_cannot_be_declared(hq, disaster, settings):
    settings.CONSENT_RELEASE_RULES = ["life_protection"]
    with pytest.raises(ApplicationError) as raised:
        declare(hq, disaster)
    assert raised.value.field == "rule"


def test_a_release_is_audited_with_its_article(hq, disaster, shelter_a):
    release = declare(
        hq, disaster, shelter_ids=[shelter_a.pk], hours=None, expires_at=timezone.now() + timedelta(days=2)
    )
    assert release.article == "災害対策基本法 第49条の11第3項"
    entry = AuditEntry.objects.get(action="consent.release_declared")
    assert entry.actor == hq and entry.object_id == str(release.pk)
    assert entry.details["article"] == "災害対策基本法 第49条の11第3項"
    assert entry.details["shelters"] == [shelter_a.pk] and entry.details["categories"] == ["basic"]


# --- In force, and ended ------------------------------------------------------------------------


def test_a_release_is_active_inside_its_window_only(hq, disaster):
    release = declare(hq, disaster)
    assert [r.id for r in access_consent.active_releases()] == [release.pk]
    helpers.travel(release, declared_ago=timedelta(hours=25), expires_in=timedelta(seconds=-1))
    assert access_consent.active_releases() == []
    helpers.travel(release, declared_ago=timedelta(hours=-1), expires_in=timedelta(hours=5))
    assert access_consent.active_releases() == []  # declared in the future: not yet


def test_a_revoked_release_is_gone_and_cannot_be_revoked_again(hq, disaster):
    release = declare(hq, disaster)
    release_revoke(release_id=release.pk, actor=hq)
    assert access_consent.active_releases() == []
    with pytest.raises(ApplicationError) as raised:
        release_revoke(release_id=release.pk, actor=hq)
    assert raised.value.code == "conflict"
    assert AuditEntry.objects.filter(action="consent.release_revoked", object_id=str(release.pk)).count() == 1


def test_closing_the_disaster_ends_its_releases(hq, disaster):
    declare(hq, disaster)
    services.disaster_close(disaster_id=disaster.pk, actor=hq)
    assert access_consent.active_releases() == []


def test_a_rule_disabled_after_declaring_stops_the_release(hq, disaster, settings):
    declare(hq, disaster)
    settings.CONSENT_RELEASE_RULES = []
    assert access_consent.active_releases() == []


def test_the_beat_job_records_each_end_once(hq, disaster):
    expired, revoked, running = declare(hq, disaster), declare(hq, disaster), declare(hq, disaster)
    helpers.travel(expired, declared_ago=timedelta(hours=2), expires_in=timedelta(seconds=-1))
    release_revoke(release_id=revoked.pk, actor=hq)

    assert releases_end() == 2
    consent_releases_end()  # the task, as beat runs it: nothing left to record
    assert releases_end() == 0

    ends = AuditEntry.objects.filter(action="consent.release_ended")
    assert sorted((e.object_id, e.details["how"]) for e in ends) == sorted(
        [(str(expired.pk), "expired"), (str(revoked.pk), "revoked")]
    )
    assert all(e.details["article"] == "災害対策基本法 第49条の11第3項" for e in ends)
    assert LegalRelease.objects.get(pk=running.pk).ended_recorded_at is None
    assert LegalRelease.objects.filter(ended_recorded_at__isnull=False).count() == 2

    services.disaster_close(disaster_id=disaster.pk, actor=hq)
    assert releases_end() == 1
    assert AuditEntry.objects.get(action="consent.release_ended", object_id=str(running.pk)).details["how"] == (
        "disaster_closed"
    )


def test_beat_runs_the_job_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["consent-releases-end"]
    assert entry["task"] == consent_releases_end.name == "consent.releases_end"


# --- What a release lets a reader see -----------------------------------------------------------


def test_a_roster_release_shows_a_refused_roster_person_to_a_manager_and_records_it(
    hq, manager_a, shelter_a, disaster, as_user
):
    person = helpers.resident(shelter_a)
    helpers.refuse_everything(person, ["shelter_staff"])
    page = as_user(manager_a).get(reverse("shelters:residents", args=[shelter_a.pk])).content.decode()
    assert helpers.SECRET_NAME not in page
    assert "氏名非表示（本人が提供を拒否）" in page

    release = helpers.release(
        hq, disaster, "roster_disaster_release", categories=["basic"], recipients=["shelter_staff"]
    )
    PersonalDataAccess.objects.all().delete()
    page = as_user(manager_a).get(reverse("shelters:residents", args=[shelter_a.pk])).content.decode()
    assert helpers.SECRET_NAME in page
    read = PersonalDataAccess.objects.get(evacuee=person)
    assert (read.release_id, read.basis, read.categories) == (release.pk, "roster_disaster_release", "basic")
    assert (read.role, read.shelter_id, read.viewer_id) == ("manager", shelter_a.pk, manager_a.pk)

    assert [t.release.pk for t in releases_touching([person.pk])] == [release.pk]
    other = helpers.resident(shelter_a, name="別人 花子", kana="ベツジン ハナコ", phone="0242-11-2233", on_roster=False)
    assert releases_touching([other.pk]) == []


def test_a_life_protection_release_does_not_override_a_refusal(hq, manager_a, shelter_a, disaster):
    refused = helpers.resident(shelter_a)
    helpers.refuse_everything(refused, ["shelter_staff"])
    silent = helpers.resident(shelter_a, name="未回答 次郎", kana="ミカイトウ ジロウ", phone="0242-22-3344")
    helpers.release(hq, disaster, "life_protection", categories=["basic"], recipients=["shelter_staff"])
    with_override = {p.pk: p for p in people.evacuees_for_list(user=manager_a, purpose="test")}
    assert with_override[refused.pk].name == "" and with_override[refused.pk].withheld["basic"] == "refused"
    assert with_override[silent.pk].name == "未回答 次郎"


def test_a_release_at_other_shelters_does_not_reach_this_one(hq, manager_a, shelter_a, shelter_b, disaster):
    person = helpers.resident(shelter_a)
    helpers.refuse_everything(person, ["shelter_staff"])
    helpers.release(hq, disaster, "roster_disaster_release", recipients=["shelter_staff"], shelter_ids=[shelter_b.pk])
    assert people.access_evacuee_by_id(manager_a, person.pk, purpose="test").name == ""


def test_a_support_needs_release_covers_people_needing_support_off_the_roster(hq, manager_a, shelter_a, disaster):
    person = helpers.resident(shelter_a, on_roster=False)
    helpers.refuse_everything(person, ["shelter_staff"])
    helpers.release(
        hq, disaster, "roster_disaster_release", recipients=["shelter_staff"], scope=ReleaseScope.SUPPORT_NEEDS
    )
    assert people.access_evacuee_by_id(manager_a, person.pk, purpose="test").name == helpers.SECRET_NAME


# --- Disasters ----------------------------------------------------------------------------------


def test_a_disaster_is_declared_and_closed_once_audited(hq):
    disaster = services.disaster_declare(name="  令和X年 会津地震 ", actor=hq)
    assert disaster.name == "令和X年 会津地震" and access_consent.current_context() == "disaster"
    services.disaster_close(disaster_id=disaster.pk, actor=hq)
    assert access_consent.current_context() == "peacetime"
    with pytest.raises(ApplicationError) as raised:
        services.disaster_close(disaster_id=disaster.pk, actor=hq)
    assert raised.value.code == "conflict"
    actions = list(AuditEntry.objects.filter(object_type="disaster").values_list("action", "details"))
    assert actions == [("disaster.declared", {}), ("disaster.closed", {})] or sorted(actions) == sorted(
        [("disaster.declared", {}), ("disaster.closed", {})]
    )


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "a\x00b"])
def test_a_disaster_needs_a_bounded_name(hq, name):
    with pytest.raises(ApplicationError) as raised:
        services.disaster_declare(name=name, actor=hq)
    assert raised.value.field == "name"


# --- HQ's pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "disasters", "releases"),
    [("hq", 200, 200), ("official", 403, 200), ("manager_a", 403, 403)],
)
def test_who_may_open_the_hq_pages(request, as_user, persona, disasters, releases):
    client = as_user(request.getfixturevalue(persona))
    assert client.get(reverse("hq:disasters")).status_code == disasters
    assert client.get(reverse("hq:releases")).status_code == releases


def test_anonymous_users_are_sent_to_log_in(as_user):
    assert as_user(None).get(reverse("hq:releases")).status_code == 302


@pytest.mark.parametrize("persona", ["official", "manager_a"])
def test_only_hq_declares_and_revokes(request, as_user, hq, disaster, persona):
    release = declare(hq, disaster)
    client = as_user(request.getfixturevalue(persona))
    assert client.post(reverse("hq:release_revoke", args=[release.pk])).status_code == 403
    assert client.post(reverse("hq:release_declare"), {}).status_code == 403
    assert client.post(reverse("hq:disaster_declare"), {"name": "x"}).status_code == 403
    assert client.post(reverse("hq:disaster_close", args=[disaster.pk])).status_code == 403
    assert LegalRelease.objects.get(pk=release.pk).revoked_at is None


def test_hq_declares_and_revokes_a_release_on_the_page(as_user, hq, disaster, shelter_a):
    client = as_user(hq)
    page = client.get(reverse("hq:releases")).content.decode()
    assert "災害対策基本法 第49条の11第3項" in page and "個人情報保護法 第69条第2項第4号" in page
    response = client.post(
        reverse("hq:release_declare"),
        {
            "disaster": disaster.pk,
            "rule": "roster_disaster_release",
            "categories": ["basic", "contact"],
            "recipients": ["supporters"],
            "scope": "roster",
            "shelters": [shelter_a.pk],
            "hours": 48,
            "reason": "安否確認",
        },
    )
    assert response.status_code == 302
    release = LegalRelease.objects.get()
    assert (release.categories, release.recipients, list(release.shelters.all())) == (
        ["basic", "contact"],
        ["supporters"],
        [shelter_a],
    )
    assert client.post(reverse("hq:release_revoke", args=[release.pk])).status_code == 302
    assert LegalRelease.objects.get().revoked_by == hq


def test_the_page_names_the_field_of_a_refused_release(as_user, hq, disaster):
    response = as_user(hq).post(
        reverse("hq:release_declare"),
        {
            "disaster": disaster.pk,
            "rule": "life_protection",
            "categories": ["stays"],
            "recipients": ["supporters"],
            "scope": "roster",
            "hours": 48,
            "reason": "x",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["categories"] == ["This rule does not cover these data."] or (
        "categories" in response.context["form"].errors
    )
    assert not LegalRelease.objects.exists()


def test_officials_see_that_a_release_exists_but_not_whom_it_touched(
    as_user, hq, official, manager_a, shelter_a, disaster
):
    person = helpers.resident(shelter_a)
    helpers.refuse_everything(person, ["shelter_staff"])
    helpers.release(hq, disaster, "roster_disaster_release", recipients=["shelter_staff"])
    people.shelter_residents(user=manager_a, shelter=shelter_a, purpose="test")  # one read under it
    page = as_user(official).get(reverse("hq:releases")).content.decode()
    assert "災害対策基本法 第49条の11第3項" in page
    assert helpers.SECRET_NAME not in page and "安否確認" not in page and 'action="/hq/releases/' not in page
    hq_page = as_user(hq).get(reverse("hq:releases")).content.decode()
    assert helpers.SECRET_NAME not in hq_page


def test_hq_declares_and_closes_a_disaster_on_the_page(as_user, hq):
    client = as_user(hq)
    assert client.post(reverse("hq:disaster_declare"), {"name": "会津豪雨"}).status_code == 302
    disaster = services.selectors.open_disasters().get() if hasattr(services, "selectors") else None
    from shelters.models import Disaster

    disaster = Disaster.objects.get(name="会津豪雨")
    assert client.post(reverse("hq:disaster_close", args=[disaster.pk])).status_code == 302
    assert Disaster.objects.get(pk=disaster.pk).closed_at is not None
    assert "会津豪雨" in client.get(reverse("hq:disasters")).content.decode()


def test_the_nav_links_the_hq_pages_for_hq_only(as_user, hq, manager_a):
    page = as_user(hq).get(reverse("shelters:list")).content.decode()
    assert reverse("hq:disasters") in page and reverse("hq:releases") in page
    page = as_user(manager_a).get(reverse("shelters:list")).content.decode()
    assert reverse("hq:disasters") not in page and reverse("hq:releases") not in page


def test_the_resident_sees_the_releases_their_data_was_read_under(hq, manager_a, shelter_a, disaster, as_user):
    from shelters.models import Evacuee, User

    person = helpers.resident(shelter_a)
    Evacuee.objects.filter(pk=person.pk).update(city_os_id="CITYOS-RELEASE-1")
    helpers.refuse_everything(Evacuee.objects.get(pk=person.pk), ["shelter_staff"])
    helpers.release(hq, disaster, "roster_disaster_release", categories=["basic"], recipients=["shelter_staff"])
    people.shelter_residents(user=manager_a, shelter=shelter_a, purpose="test")
    people.shelter_residents(user=manager_a, shelter=shelter_a, purpose="test")
    resident = User.objects.create_user(username="resident-release", city_os_id="CITYOS-RELEASE-1")
    page = as_user(resident).get(reverse("me:accesses")).content.decode()
    assert "同意なしの提供" in page
    assert "テスト地震：災害対策基本法 第49条の11第3項" in page and "2回見られました" in page
    other = User.objects.create_user(username="resident-other", city_os_id="CITYOS-OTHER-1")
    assert "同意なしの提供" not in as_user(other).get(reverse("me:accesses")).content.decode()
