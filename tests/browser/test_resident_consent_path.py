"""The whole path of a resident's consent: signed in through the City OS sandbox on their phone, they
refuse shelter staff their name on /me/consents/; the manager's residents page shows them without
it; they give it; the manager's page shows the name; and their /me/accesses/ shows that read: the
role, the shelter and the purpose, never the manager's account.

With SCREENSHOTS_DIR set, every resident page is photographed at 390x844 and 1024x768.
"""

import pytest
from playwright.sync_api import expect

from consent.models import ConsentRecord
from residents.models import CorrectionRequest
from shelters import services
from tests.browser.shots import SCREENSHOTS_DIR, shoot
from tests.factories import EvacueeFactory, HouseholdFactory
from tests.system import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CITY_OS_ID = "AIZU-SANDBOX-0004"  # the sandbox's sample-suzuki-tome
NAME = "鈴木 トメ"
CELL = "select[name='c.shelter_staff.peacetime.basic']"


def _residents_page_text(manager, live_server, shelter) -> str:
    manager.goto(f"{live_server.url}/shelters/{shelter.pk}/residents/")
    return manager.locator("main").inner_text()


def test_a_resident_refuses_then_gives_consent_and_sees_the_managers_read(
    browser, page, live_server, log_in, city_os_for_live_server, manager_a, shelter_a, hq
):
    sandbox = city_os_for_live_server
    household = HouseholdFactory(members=0)
    person = EvacueeFactory(
        city_os_id=CITY_OS_ID, name=NAME, name_kana="スズキ トメ", address="会津若松市（サンプル）", household=household
    )
    EvacueeFactory(name="鈴木 一男", name_kana="スズキ カズオ", household=household)
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)

    phone_context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ja-JP", is_mobile=True, has_touch=True
    )
    phone = phone_context.new_page()
    phone.set_default_timeout(10_000)
    try:
        # Signed in through the sandbox: our login page, the City OS's, back to /me/.
        phone.goto(f"{live_server.url}/login/")
        phone.click("text=City OS でサインイン")
        expect(phone).to_have_url(f"{sandbox.url}/?next=" + phone.url.split("?next=", 1)[1])
        phone.fill("input[name=username]", "sample-suzuki-tome")
        phone.fill("input[name=password]", DEMO_PASSWORD)
        phone.click("main button[type=submit]")
        expect(phone).to_have_url(f"{live_server.url}/me/")
        expect(phone.locator("main")).to_contain_text(NAME)

        # The resident refuses shelter staff their name (peacetime: no disaster is open).
        phone.goto(f"{live_server.url}/me/consents/")
        phone.select_option(CELL, "refused")
        phone.click("#save-consents")
        expect(phone.locator(".message.success")).to_be_visible()
        expect(phone.locator(CELL)).to_have_value("refused")
        assert ConsentRecord.objects.filter(subject=f"cityos:{CITY_OS_ID}", method="resident_page").count() == 1

        log_in(page, "manager_a")
        assert NAME not in _residents_page_text(page, live_server, shelter_a)

        # The resident changes their mind.
        phone.select_option(CELL, "given")
        phone.click("#save-consents")
        expect(phone.locator(CELL)).to_have_value("given")

        assert NAME in _residents_page_text(page, live_server, shelter_a)

        # ... and sees who looked: a role and a shelter, what for; never the manager's account.
        phone.goto(f"{live_server.url}/me/accesses/")
        newest = phone.locator(".access").first
        expect(newest.locator(".role")).to_have_text("避難所の運営者")
        expect(newest.locator(".place")).to_have_text(shelter_a.name)
        expect(newest.locator(".purpose")).to_have_text("避難所に滞在している方の一覧を見ました")
        expect(newest.locator(".basis")).to_contain_text("あなたの同意")
        assert "manager_a" not in phone.locator("body").inner_text()

        # Nothing on the phone is wider than the screen.
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390

        if SCREENSHOTS_DIR:
            phone.goto(f"{live_server.url}/me/correction/")
            phone.select_option("select[name=field]", "phone")
            phone.fill("textarea[name=message]", "電話番号は 0242-00-9999 に変わりました。")
            shoot(phone, "correction")
            phone.click("main button[type=submit]")
            expect(phone).to_have_url(f"{live_server.url}/me/")
            assert CorrectionRequest.objects.count() == 1
            shoot(phone, "me")
            for name in ("consents", "records", "accesses"):
                phone.goto(f"{live_server.url}/me/{name}/")
                shoot(phone, name)
            log_in(page, "hq")
            page.goto(f"{live_server.url}/residents/corrections/")
            shoot(page, "hq-corrections")
    finally:
        phone_context.close()
