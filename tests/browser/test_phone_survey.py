"""A resident answers the survey on a phone from the shelter poster's QR code, with their slip's code,
and the answer reaches the shelter's follow-up list, its supply requests and the survey report.

The report is read as HQ: officials' reports cover only weeks that have ended
(surveys/reports/release.py), so today's answer reaches theirs next week."""

import pytest
from playwright.sync_api import expect

from shelters import services as shelter_services
from supply.models import Request
from surveys import services
from surveys.models import FollowUp, Response, SurveyVersion
from tests.factories import EvacueeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

K6_ANSWERS = {
    "k6_1": "always",
    "k6_2": "mostly",
    "k6_3": "sometimes",
    "k6_4": "sometimes",
    "k6_5": "a_little",
    "k6_6": "a_little",
}  # 4+3+2+2+1+1 = 13


def report_total(browser, live_server, log_in) -> str:
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP")
    try:
        report = context.new_page()
        report.set_default_timeout(10_000)
        log_in(report, "hq")
        report.goto(f"{live_server.url}/reports/")
        return report.locator("#total-responses").inner_text().strip()
    finally:
        context.close()


def test_a_resident_answers_on_a_phone_from_the_posters_qr_code_and_is_followed_up(
    page, browser, live_server, log_in, manager_a, shelter_a, hq
):
    # Four earlier anonymous answers with a K6.
    version = SurveyVersion.objects.get(is_current=True)
    for number in range(4):
        services.response_submit(
            version=version,
            shelter=shelter_a,
            raw_answers=dict.fromkeys(K6_ANSWERS, "never"),
            channel="proxy",
            submission_key=f"earlier-{number}",
        )
    assert report_total(browser, live_server, log_in) == "4"

    resident = EvacueeFactory(name="会津 花子")
    shelter_services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[resident.pk], actor=hq)
    token = services.survey_token_issue(evacuee=resident, actor=manager_a).token

    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/surveys/shelters/{shelter_a.pk}/poster/")
    expect(page.locator("#poster-qr svg")).to_be_visible()
    survey_url = page.locator("#survey-url").get_attribute("href")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP", is_mobile=True, has_touch=True)
    try:
        mobile = phone.new_page()
        mobile.set_default_timeout(10_000)
        mobile.goto(survey_url)
        expect(mobile.locator("#k6-heading")).to_have_text("過去30日の間に、どのくらいの頻度で次のことがありましたか。")
        expect(mobile.locator("#k6-notice")).to_contain_text("Kessler")

        mobile.fill("input[name=token]", token)
        for code, value in K6_ANSWERS.items():
            mobile.locator(f"input[name=q-{code}][value={value}]").locator("xpath=..").tap()
        quantity = mobile.locator("#question-needs_water_quantity")
        expect(quantity).to_be_hidden()
        mobile.locator("input[name=q-needs][value=water]").locator("xpath=..").tap()
        expect(quantity).to_be_visible()
        mobile.fill("input[name=q-needs_water_quantity]", "3")
        # One column that fits the phone: nothing wider than the screen.
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
        mobile.locator("button.submit").tap()
        # A typed code links the answers to the resident: they are asked first (consent/asking.py),
        # with their answers kept.
        expect(mobile.locator("#consent-question")).to_be_visible()
        mobile.locator("input[name=consent-survey][value=given]").locator("xpath=..").tap()
        mobile.locator("button.submit").tap()

        expect(mobile.locator("h1")).to_have_text("ご回答ありがとうございました。")
        assert "会津 花子" not in mobile.content()
    finally:
        phone.close()

    # The fifth answer is in the report at once.
    assert report_total(browser, live_server, log_in) == "5"

    response = Response.objects.get(channel="phone")
    assert (response.shelter, response.respondent, response.channel, response.k6_score) == (
        shelter_a,
        resident,
        "phone",
        13,
    )
    assert response.answers["needs"] == ["water"] and response.answers["needs_water_quantity"] == 3
    follow_up = FollowUp.objects.get(evacuee=resident)
    assert (follow_up.shelter, follow_up.k6_score, follow_up.state) == (shelter_a, 13, "new")
    request = Request.objects.get(survey_response=response)
    assert (request.item.code, request.quantity, request.shelter, request.evacuee) == ("water", 3, shelter_a, resident)
