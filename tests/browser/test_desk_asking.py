"""The desk's questions on a 1024x768 tablet, and the own-phone page at 390x844 (consent/asking.py)."""

import pytest
from playwright.sync_api import expect

from consent.models import ConsentDecision, subject_of
from shelters.models import Evacuee, Stay, SupportNeed
from surveys import services as survey_services
from surveys.answering import links as survey_links
from surveys.models import Response
from tests.browser.shots import shoot
from tests.factories import EvacueeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_walk_in_refuses_support_on_the_tablet_and_is_checked_in_without_it(
    page, live_server, log_in, manager_a, shelter_a, support_categories
):
    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/shelters/{shelter_a.pk}/desk/")

    page.click("#walk-in summary")
    page.fill("input[name=member-0-name]", "磐梯 桜")
    page.fill("input[name=member-0-phone]", "0242-12-3456")
    page.check("input[name=member-0-support_needs][value=infant]")
    page.check("input[name=member-0-requires_evacuation_support]")
    # The questions appear in the form, for the resident to answer on the tablet themselves.
    panel = page.locator("#walk-in-ask")
    expect(panel).to_be_visible()
    expect(panel.locator(".ask-question")).to_have_count(4)
    panel.locator("[data-category=basic] .ask-choice.given").click()
    panel.locator("[data-category=contact] .ask-choice.given").click()
    panel.locator("[data-category=support] .ask-choice.refused").click()
    # Big enough to hit with a finger.
    box = panel.locator("[data-category=support] .ask-choice.refused").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    panel.scroll_into_view_if_needed()
    shoot(page, "desk-walk-in-panel", full_page=False)
    page.click("#walk-in-form button[type=submit].primary")

    expect(page.locator(".message.success")).to_contain_text("1")
    expect(page.locator(".message.success")).to_contain_text("支援が必要なこと")
    expect(page.locator("[data-field=occupancy]").first).to_have_text("1")
    person = Evacuee.objects.get(name="磐梯 桜")
    assert Stay.objects.filter(evacuee=person, shelter=shelter_a, checked_out_at__isnull=True).exists()
    assert not SupportNeed.objects.filter(evacuee=person).exists()
    assert person.requires_evacuation_support is False
    assert person.phone == "0242-12-3456"
    assert (
        ConsentDecision.objects.get(subject=subject_of(person), category="support", recipient="shelter_staff").decision
        == "refused"
    )
    shoot(page, "desk-after-walk-in")


def test_after_a_check_in_the_resident_answers_on_the_tablet_or_their_phone(
    page, browser, live_server, log_in, manager_a, shelter_a
):
    person = EvacueeFactory(name="猪苗代 花子", name_kana="イナワシロ ハナコ", phone="0242-33-4455")
    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/shelters/{shelter_a.pk}/desk/")
    page.fill("#q", "0242-33-4455")
    page.keyboard.press("Enter")
    page.check("input[name=evacuees]")
    page.click("#check-in-button")

    # Checked in first; then the questions, which the resident may skip.
    expect(page.locator(".message.success")).to_contain_text("1")
    expect(page.locator("#ask-panel")).to_be_visible()
    expect(page.locator("#ask-panel h3")).to_contain_text("猪苗代 花子")
    page.locator("#ask-panel details.own-phone summary").click()
    expect(page.locator("#ask-panel .qr svg")).to_be_visible()
    shoot(page, "desk-ask-panel")
    own_phone_url = page.locator(".own-phone-url").inner_text().strip()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP", is_mobile=True, has_touch=True)
    try:
        mobile = phone.new_page()
        mobile.set_default_timeout(10_000)
        mobile.goto(own_phone_url)
        expect(mobile.locator(".ask-question")).to_have_count(4)
        assert "猪苗代" not in mobile.content()
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(mobile, "own-phone")
        mobile.locator("[data-category=support] .ask-choice.refused").tap()
        mobile.locator("[data-category=basic] .ask-choice.given").tap()
        mobile.locator("#ask-send").tap()
        expect(mobile.locator("#asked")).to_be_visible()
        shoot(mobile, "own-phone-thanks")
    finally:
        phone.close()

    decisions = dict(
        ConsentDecision.objects.filter(subject=subject_of(person), recipient="shelter_staff").values_list(
            "category", "decision"
        )
    )
    assert decisions == {"basic": "given", "support": "refused"}

    # On the tablet, "later" records nothing more.
    page.click("#ask-later")
    expect(page.locator(".message.success")).to_be_visible()
    assert ConsentDecision.objects.filter(subject=subject_of(person)).count() == 4


def test_the_phone_survey_asks_first_from_the_slips_code(browser, live_server, shelter_a, hq):
    from shelters import services as shelter_services

    resident = EvacueeFactory(name="会津 花子")
    shelter_services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[resident.pk], actor=hq)
    token = survey_services.survey_token_issue(evacuee=resident, actor=hq).token

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP", is_mobile=True, has_touch=True)
    try:
        mobile = phone.new_page()
        mobile.set_default_timeout(10_000)
        mobile.goto(f"{live_server.url}{survey_links.survey_path(shelter_a, token)}")
        expect(mobile.locator("#consent-question")).to_be_visible()
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
        mobile.locator("#consent-question").scroll_into_view_if_needed()
        shoot(mobile, "survey-question", full_page=False)
        mobile.locator("input[name=consent-survey][value=refused]").locator("xpath=..").tap()
        mobile.locator("input[name=q-k6_1][value=always]").locator("xpath=..").tap()
        mobile.locator("button.submit").tap()
        expect(mobile.locator("h1")).to_have_text("ご回答ありがとうございました。")
    finally:
        phone.close()

    response = Response.objects.get()
    assert response.respondent is None  # refused: counted, but not linked to her
    assert ConsentDecision.objects.get(subject=subject_of(resident), recipient="health").decision == "refused"
