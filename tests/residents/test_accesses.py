"""/me/accesses/: who looked at my data, as a role and a place, the purpose and the basis; never
the staff member's username."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import PersonalDataAccess
from consent.models import LegalRelease
from consent.rules import ROSTER_RELEASE, Method
from consent.services import Change, consents_record
from shelters.models import Disaster

pytestmark = pytest.mark.django_db


def _manager_reads_residents(as_user, manager, shelter):
    assert as_user(manager).get(reverse("shelters:residents", args=[shelter.pk])).status_code == 200


def test_a_managers_read_shows_role_shelter_purpose_and_basis_but_not_the_username(
    resident, manager_a, shelter_a, as_user
):
    _manager_reads_residents(as_user, manager_a, shelter_a)

    body = as_user(resident).get(reverse("me:accesses")).content.decode()

    assert "避難所の運営者" in body
    assert shelter_a.name in body
    assert "避難所に滞在している方の一覧を見ました" in body
    assert "個人情報保護法 第69条第1項" in body  # the standing rule's article: no consent asked yet
    assert "manager_a" not in body


def test_a_read_under_consent_says_so(resident, manager_a, shelter_a, as_user):
    consents_record(
        subject="cityos:AIZU-TEST-0001",
        changes=[Change("basic", "shelter_staff", "peacetime", "given")],
        method=Method.RESIDENT_PAGE,
        collected_by=resident,
    )
    _manager_reads_residents(as_user, manager_a, shelter_a)

    body = as_user(resident).get(reverse("me:accesses")).content.decode()

    assert "あなたの同意" in body


def test_the_reads_of_a_release_show_its_disaster_article_and_time_limit(resident, manager_a, shelter_a, hq, as_user):
    now = timezone.now()
    disaster = Disaster.objects.create(name="令和8年 会津豪雨", started_at=now - timedelta(hours=5))
    release = LegalRelease.objects.create(
        disaster=disaster,
        rule=ROSTER_RELEASE.code,
        article=ROSTER_RELEASE.article,
        categories=["basic", "contact", "support"],
        recipients=["shelter_staff"],
        scope="roster",
        reason="安否確認",
        declared_by=hq,
        declared_at=now - timedelta(hours=1),
        expires_at=now + timedelta(days=2),
    )
    resident.person.requires_evacuation_support = True
    resident.person.save()
    consents_record(
        subject="cityos:AIZU-TEST-0001",
        changes=[Change("basic", "shelter_staff", "disaster", "refused")],
        method=Method.RESIDENT_PAGE,
        collected_by=resident,
    )
    _manager_reads_residents(as_user, manager_a, shelter_a)
    assert PersonalDataAccess.objects.get(evacuee=resident.person).release == release

    body = as_user(resident).get(reverse("me:accesses")).content.decode()

    assert "災害対策基本法 第49条の11第3項" in body
    assert "令和8年 会津豪雨" in body
    assert timezone.localtime(release.expires_at).strftime("%Y-%m-%d %H:%M") in body


def test_unknown_purposes_read_as_a_plain_generic_phrase(resident, hq, as_user):
    PersonalDataAccess.objects.create(
        viewer=hq, evacuee=resident.person, purpose="page.something_new", at=timezone.now(), role="hq"
    )

    body = as_user(resident).get(reverse("me:accesses")).content.decode()

    assert "避難所システムであなたの情報を使いました" in body
    assert "page.something_new" not in body
    assert "災害対策本部" in body
    assert "市役所" in body  # no shelter: an office


def test_accesses_are_paginated_newest_first(resident, hq, as_user):
    start = timezone.now() - timedelta(days=10)
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(
            viewer=hq,
            evacuee=resident.person,
            purpose="page.evacuee_detail",
            at=start + timedelta(minutes=i),
            role="hq",
        )
        for i in range(120)
    )
    client = as_user(resident)

    first = client.get(reverse("me:accesses")).content.decode()
    last = client.get(reverse("me:accesses"), {"page": "999999999999999999999"}).content.decode()

    assert first.count('class="card access"') == 50
    newest = timezone.localtime(start + timedelta(minutes=119)).strftime("%Y-%m-%d %H:%M")
    oldest = timezone.localtime(start).strftime("%Y-%m-%d %H:%M")
    assert newest in first and oldest not in first
    assert last.count('class="card access"') == 20 and oldest in last


def test_another_residents_accesses_are_never_shown(resident, other_resident, manager_a, shelter_a, as_user):
    _manager_reads_residents(as_user, manager_a, shelter_a)

    body = as_user(other_resident).get(reverse("me:accesses")).content.decode()

    assert shelter_a.name not in body
    assert 'class="card access"' not in body


def test_every_purpose_the_site_records_has_a_plain_phrase():
    """Each purpose code written anywhere in the site's code reads as a phrase, not the generic one."""
    import re
    from pathlib import Path

    from django.conf import settings

    from residents import plain

    found = set()
    for app in ("access", "shelters", "surveys", "supply", "dashboard", "consent", "cityos", "realtime", "residents"):
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            found |= set(re.findall(r"purpose=\"((?:page|api|socket|task)\.[a-z_]+)\"", path.read_text()))
            found |= set(re.findall(r"\"((?:page|api|socket|task)\.[a-z_]+)\"", path.read_text()))

    assert found
    assert sorted(found - set(plain.PURPOSES)) == []


def test_the_page_reads_a_fixed_number_of_queries_however_many_reads_there_are(resident, hq, shelter_a, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(resident)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("me:accesses")).status_code == 200
        return len(captured)

    PersonalDataAccess.objects.create(
        viewer=hq,
        evacuee=resident.person,
        purpose="page.evacuee_detail",
        at=timezone.now(),
        role="hq",
        shelter=shelter_a,
    )
    one = queries()
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(
            viewer=hq,
            evacuee=resident.person,
            purpose="page.residents",
            at=timezone.now(),
            role="manager",
            shelter=shelter_a,
        )
        for _ in range(40)
    )

    assert queries() == one


def test_a_household_member_reading_my_name_on_their_page_shows_as_such(resident, as_user, db):
    from tests.factories import UserFactory

    resident.person.household.members.filter(name="会津 一郎").update(city_os_id="AIZU-0003")
    family_user = UserFactory(role="", city_os_id="AIZU-0003")
    resident.username = "aizu-hanako-0001"  # the reader's account, which the page must not name
    resident.save()
    as_user(resident).get(reverse("me:index"))  # shows the family member's name

    body = as_user(family_user).get(reverse("me:accesses")).content.decode()

    assert "同じ世帯の方" in body
    assert "その方ご自身のページ" in body
    assert "同じ世帯として登録されているため" in body
    assert resident.username not in body
