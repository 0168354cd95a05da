"""Every page of /me/: the resident sees their own data, another resident never sees it (whatever
id they put in the address), staff without a City OS ID get 404 and anonymous users the login page."""

import re

import pytest
from django.urls import reverse

from access import endpoints
from consent.rules import Method
from consent.services import Change, consents_record
from residents.models import CorrectionRequest
from shelters.models import SupportCategory, SupportNeed

pytestmark = pytest.mark.django_db

OWN_PAGES = ["me:index", "me:consents", "me:records", "me:accesses", "me:data_json", "me:data_csv", "me:correction"]
# What marks the first resident's data in any page or download.
MARKS = ["会津 花子", "0242-00-9001", "AIZU-TEST-0001", "福島県会津若松市追手町1-1（テスト）", "会津 一郎"]


def _receipt_of(resident):
    record = consents_record(
        subject="cityos:" + resident.person.city_os_id,
        changes=[Change("basic", "hq", "peacetime", "given")],
        method=Method.RESIDENT_PAGE,
        collected_by=resident,
    )
    return record


def test_every_own_page_is_classified_and_probed_here():
    assert sorted(endpoints.OWN) == sorted([*OWN_PAGES, "me:receipt"])


@pytest.mark.parametrize("name", OWN_PAGES)
def test_the_resident_sees_their_own_data_on_each_page(name, resident, as_user):
    _receipt_of(resident)

    response = as_user(resident).get(reverse(name))

    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    if name in ("me:index", "me:data_json", "me:data_csv"):
        for mark in MARKS:
            assert mark in body, (name, mark)


@pytest.mark.parametrize("name", OWN_PAGES)
def test_another_resident_never_sees_the_first_residents_data(name, resident, other_resident, as_user):
    _receipt_of(resident)

    response = as_user(other_resident).get(reverse(name))

    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    for mark in MARKS:
        assert mark not in body, (name, mark)
    if name == "me:index":
        assert "若松 次郎" in body


@pytest.mark.parametrize("name", OWN_PAGES)
def test_staff_without_a_city_os_id_get_not_found(name, manager_a, hq, as_user):
    assert as_user(manager_a).get(reverse(name)).status_code == 404
    assert as_user(hq).get(reverse(name)).status_code == 404


@pytest.mark.parametrize("name", OWN_PAGES)
def test_anonymous_users_are_sent_to_the_login_page(name, as_user):
    response = as_user(None).get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_with_a_city_os_id_see_their_own_page_too(resident, as_user):
    resident.role = "manager"
    resident.save()

    response = as_user(resident).get(reverse("me:index"))

    assert response.status_code == 200
    assert "会津 花子" in response.content.decode()


def test_a_receipt_is_found_only_by_its_own_resident(resident, other_resident, as_user):
    record = _receipt_of(resident)
    url = reverse("me:receipt", args=[record.receipt_id])

    assert as_user(resident).get(url).status_code == 200
    assert as_user(other_resident).get(url).status_code == 404
    assert as_user(None).get(url).status_code == 302


def test_a_receipt_id_that_is_no_uuid_is_not_found(resident, as_user):
    assert as_user(resident).get("/me/records/12.json").status_code == 404
    assert as_user(resident).get("/me/records/' OR 1=1.json").status_code == 404


def test_a_resident_cannot_ask_to_correct_someone_elses_record_by_changing_the_id(resident, other_resident, as_user):
    response = as_user(other_resident).post(
        reverse("me:correction"), {"evacuee": resident.person.pk, "field": "name", "message": "違います"}
    )

    assert response.status_code == 404
    assert not CorrectionRequest.objects.exists()


def test_a_resident_the_city_holds_nothing_about_is_told_so(as_user, db):
    from tests.factories import UserFactory

    newcomer = UserFactory(role="", city_os_id="AIZU-9999")

    body = as_user(newcomer).get(reverse("me:index")).content.decode()

    assert "記録はありません" in body


def test_the_page_shows_stays_household_support_needs_and_survey_answers(
    resident, shelter_a, as_user, support_categories
):
    from tests.surveys.follow_up_helpers import k6_answers, submit

    SupportNeed.objects.create(
        evacuee=resident.person, category=SupportCategory.objects.order_by("id").first(), notes="杖"
    )
    submit(shelter_a, k6_answers(18), respondent=resident.person)

    body = as_user(resident).get(reverse("me:index")).content.decode()

    assert shelter_a.name in body
    assert "会津 一郎" in body  # household
    assert "杖" in body  # support need notes
    assert "1件の回答" in body
    assert re.search(r"フォローアップ|新規", body)


def test_a_resident_sees_only_their_own_pages_in_the_header(resident, as_user):
    body = as_user(resident).get(reverse("me:index")).content.decode()
    header = body.split("</header>")[0]

    assert reverse("me:consents") in header
    assert reverse("me:accesses") in header
    assert reverse("shelters:list") not in header
    assert reverse("api-docs") not in header


def test_staff_navigation_is_unchanged_and_has_no_own_page_without_a_city_os_id(manager_a, as_user):
    header = as_user(manager_a).get(reverse("shelters:list")).content.decode().split("</header>")[0]

    assert reverse("shelters:list") in header
    assert reverse("me:index") not in header


def test_the_start_page_takes_a_resident_to_their_page(resident, as_user):
    response = as_user(resident).get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("me:index")


def test_reading_the_page_records_the_household_members_read_not_the_resident_themself(resident, as_user):
    from access.models import PersonalDataAccess

    as_user(resident).get(reverse("me:index"))

    assert not PersonalDataAccess.objects.filter(evacuee=resident.person).exists()
    read = PersonalDataAccess.objects.get(evacuee__name="会津 一郎")
    assert (read.viewer, read.role, read.purpose, read.basis) == (
        resident,
        "resident",
        "page.me_household",
        "household",
    )


def test_the_pages_read_in_english_too(resident, as_user):
    client = as_user(resident)
    client.cookies["django_language"] = "en"

    body = client.get(reverse("me:consents")).content.decode()

    assert "Who looked at my data" in body
    assert "When the law lets the city use data without your consent" in body
    assert "Save my choices" in body


def test_the_page_counts_each_recipients_answers(resident, as_user):
    consents_record(
        subject="cityos:" + resident.city_os_id,
        changes=[Change("basic", "hq", "peacetime", "given"), Change("location", "hq", "disaster", "refused")],
        method=Method.RESIDENT_PAGE,
        collected_by=resident,
    )
    client = as_user(resident)
    client.cookies["django_language"] = "en"

    body = client.get(reverse("me:index")).content.decode()

    # Given, refused, not asked, of the 7 kinds of data x 2 situations.
    row = '<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>'
    assert row.format("Disaster headquarters", 1, 1, 12) in body
    assert row.format("Shelter staff", 0, 0, 14) in body
