"""A resident signs in with the City OS: the real authorization-code flow with PKCE, from our login
page through the sandbox process's sign-in page and back, to their own page."""

import pytest
from playwright.sync_api import expect

from cityos import client
from common.roles import role_of
from shelters.models import User
from tests.browser.shots import shoot
from tests.system import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_resident_signs_in_with_the_city_os_and_lands_on_their_page(page, live_server, city_os_for_live_server):
    sandbox = city_os_for_live_server
    page.goto(f"{live_server.url}/login/")
    shoot(page, "login")
    page.click("text=City OS でサインイン")

    # The sandbox's own sign-in page, which says its residents are samples.
    expect(page).to_have_url(f"{sandbox.url}/?next=" + page.url.split("?next=", 1)[1])
    expect(page.locator(".sample")).to_contain_text("サンプル")
    shoot(page, "sandbox-login")
    page.fill("input[name=username]", "sample-suzuki-tome")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")

    expect(page).to_have_url(f"{live_server.url}/me/")
    expect(page.locator("#signed-in-as")).to_contain_text("AIZU-SANDBOX-0004")
    shoot(page, "me")
    resident = User.objects.get(city_os_id="AIZU-SANDBOX-0004")
    assert role_of(resident) is None

    # Logging out ends the City OS's session too: the next sign-in asks for a password again.
    page.click("form[action$='/logout/'] button")
    expect(page).to_have_url(f"{live_server.url}/login/")
    page.click("text=City OS でサインイン")
    expect(page.locator("input[name=password]")).to_be_visible()


def test_the_sandbox_shows_a_signed_in_resident_their_qr_code_and_saves_their_choices(
    page, live_server, city_os_for_live_server
):
    sandbox = city_os_for_live_server
    page.goto(f"{sandbox.url}/")
    page.fill("input[name=username]", "sample-takahashi-mai")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")

    expect(page.locator("#qr svg")).to_be_visible()
    payload = page.locator("#qr-payload").text_content()
    assert client.qr_subject(payload) == "AIZU-SANDBOX-0006"
    shoot(page, "sandbox-resident")

    page.select_option("select[name='location.hq.disaster']", "refused")
    page.check("input[name=timing][value=every_time]")
    page.click("form[method=post] button.primary")
    expect(page.locator("select[name='location.hq.disaster']")).to_have_value("refused")
    opt_in = client.resident_consents("AIZU-SANDBOX-0006")
    assert opt_in.timing == "every_time"
    assert not opt_in.allows("location", "hq", "disaster")
    assert {area.code: area.count for area in client.location_counts()}["072021-02"] == 0
