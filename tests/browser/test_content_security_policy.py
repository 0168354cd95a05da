"""Every page works under the Content-Security-Policy: Chromium reports no violation on any of them."""

import pytest
from playwright.sync_api import expect

from shelters import services as shelter_services
from surveys import services as survey_services
from tests.factories import EvacueeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Pages with something drawn by script, and the element that shows the script ran.
PAGES = [
    ("/dashboard/", "#map .main-svg"),
    ("/dashboard/shelters/{shelter}/", ".main-svg"),
    ("/shelters/", "#shelter-table"),
    ("/shelters/{shelter}/", None),
    ("/shelters/{shelter}/desk/", None),
    ("/shelters/{shelter}/residents/", None),
    ("/shelters/evacuees/{evacuee}/", None),
    ("/surveys/shelters/{shelter}/poster/", "#poster-qr svg"),
    ("/surveys/evacuees/{evacuee}/slip/", None),
    ("/surveys/shelters/{shelter}/proxy/", None),
    ("/surveys/follow-ups/", None),
    ("/surveys/imports/", None),
    ("/reports/", ".main-svg"),
    ("/reports/print/", None),
    ("/supplies/", None),
    ("/supplies/shelters/{shelter}/", None),
    ("/security/lockouts/", None),
    ("/api/docs/", ".swagger-ui .info"),
    ("/api/shelters/", None),
    ("/admin/", None),
    ("/admin/shelters/shelter/{shelter}/change/", None),
]


def test_no_page_breaks_the_content_security_policy(page, live_server, log_in, shelter_a, hq):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    resident = EvacueeFactory(name="会津 花子")
    shelter_services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[resident.pk], actor=hq)
    survey_services.survey_token_issue(evacuee=resident, actor=hq)
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))

    log_in(page, "root")
    for path, drawn in PAGES:
        url = live_server.url + path.format(shelter=shelter_a.pk, evacuee=resident.pk)
        response = page.goto(url)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        if drawn:
            expect(page.locator(drawn).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert not violations, f"{path}: {violations}"

    page.goto(f"{live_server.url}/surveys/shelters/{shelter_a.pk}/poster/")
    survey_url = page.locator("#survey-url").get_attribute("href")
    page.goto(survey_url)
    page.wait_for_load_state("networkidle")
    assert not violations, f"the public survey form: {violations}"
