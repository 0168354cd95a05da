"""The survey widgets live in a browser: a distressed answer reaches the dashboards without a reload.

The answer is stored by `manage.py shell` in its own process, as a form or an import would store
it, so the event travels the real way: after commit, through Redis, to daphne, to the page.
"""

import pytest
from playwright.sync_api import expect

from tests.system import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SUBMIT = """
import uuid
from shelters.models import Evacuee, ShelterStatus, User
from surveys import services
from surveys.models import SurveyVersion
shelter = User.objects.get(username="manager").managed_shelters.filter(status=ShelterStatus.OPEN).order_by("pk")[0]
person = Evacuee.objects.order_by("pk")[0]
answers = {f"k6_{n}": "mostly" for n in range(1, 7)} | {"needs": ["water"], "needs_water_quantity": 4}
services.response_submit(
    version=SurveyVersion.objects.get(survey__code="evacuation-life", is_current=True),
    shelter=shelter,
    raw_answers=answers,
    channel="proxy",
    submission_key=uuid.uuid4().hex,
    respondent=person,
)
print(shelter.pk, person.name, sep="\\t")
"""


def shell(system, code: str) -> str:
    """The last line `manage.py shell` printed (it may first say what it imported)."""
    return system.manage("shell", "-c", code).strip().splitlines()[-1]


def dashboard(browser, server, username, path):
    context = browser.new_context(viewport={"width": 1024, "height": 900}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{server}{path}")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    return page


def test_a_distressed_answer_reaches_the_manager_by_name_and_hq_and_the_official_as_suppressed_figures(browser, system):
    system.without_sample_survey_answers()  # the widgets start from zero
    server = system.start_daphne()
    shelter_id = shell(
        system,
        "from shelters.models import *; print(User.objects.get(username='manager')"
        ".managed_shelters.filter(status=ShelterStatus.OPEN).order_by('pk')[0].pk)",
    )
    manager = dashboard(browser, server, "manager", f"/dashboard/shelters/{shelter_id}/")
    official = dashboard(browser, server, "official", f"/dashboard/shelters/{shelter_id}/")
    hq = dashboard(browser, server, "hq", "/dashboard/")
    for page in (manager, official, hq):
        page.evaluate("window.stillTheSamePage = true")
    expect(manager.locator("#open-follow-ups")).to_have_text("0")
    expect(hq.locator("#survey-responses")).to_have_text("0")

    submitted_shelter, name = shell(system, SUBMIT).split("\t")

    assert submitted_shelter == shelter_id
    expect(manager.locator("#follow-up-list")).to_contain_text(name)
    expect(manager.locator("#open-follow-ups")).to_have_text("1")
    expect(official.locator("#open-follow-ups")).to_have_text("<5")
    expect(hq.locator("#survey-responses")).to_have_text("<5")
    expect(hq.locator("#survey-k6-13")).to_have_text("<5")
    expect(hq.locator('#needs-ranking tr[data-item="water"]')).to_contain_text("<5")
    assert name not in official.content()
    assert all(page.evaluate("window.stillTheSamePage") for page in (manager, official, hq))
