"""The City OS at the desk and on the HQ dashboard, in the browser, against the sandbox process: a
manager scans a resident's QR code (a scanner types it into the search box), confirms the family
the City OS shares and checks them in with one tap; HQ sees the residents outside shelters by area."""

import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cityos import client
from shelters.models import Disaster, Role, Stay
from tests.factories import ShelterFactory, UserFactory
from tests.system import CityOSSandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = os.environ.get("SCREENSHOTS_DIR")  # a directory to keep screenshots of the pages in (1024x768 and 390x844)


@pytest.fixture
def sandbox(live_server, settings, tmp_path):
    running = CityOSSandbox(tmp_path / "cityos-sandbox", site_origins=(live_server.url,))
    for name, value in running.settings().items():
        setattr(settings, name, value)
    client.forget_cached()
    yield running
    running.stop()
    client.forget_cached()


def _shoot(page, name: str) -> None:
    if SHOTS:
        for width, height in ((1024, 768), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1024, "height": 768})


def test_a_scanned_city_os_code_checks_the_family_in_with_one_tap(page, live_server, log_in, sandbox):
    shelter = ShelterFactory(name="鶴城小学校 (テスト)", capacity=100)
    UserFactory(username="desk", role=Role.MANAGER, shelters=[shelter])
    log_in(page, "desk")
    page.goto(f"{live_server.url}/shelters/{shelter.pk}/desk/")

    page.fill("#q", sandbox.qr_code("AIZU-SANDBOX-0001"))
    page.press("#q", "Enter")

    panel = page.locator("#city-os")
    expect(panel).to_contain_text("山田 太郎")
    expect(panel).to_contain_text("山田 花子")
    expect(panel).to_contain_text("山田 空")
    expect(panel.locator("input[name=members]:checked")).to_have_count(3)
    _shoot(page, "desk-city-os-confirm")

    page.click("#city-os-check-in")

    expect(page.locator(".messages, .message, [role=status]").first).to_contain_text("3")
    assert Stay.objects.filter(shelter=shelter, checked_out_at__isnull=True).count() == 3
    _shoot(page, "desk-city-os-checked-in")


def test_a_resident_who_does_not_share_is_sent_to_the_walk_in_form(page, live_server, log_in, sandbox):
    shelter = ShelterFactory(capacity=100)
    UserFactory(username="desk", role=Role.MANAGER, shelters=[shelter])
    log_in(page, "desk")
    page.goto(f"{live_server.url}/shelters/{shelter.pk}/desk/")

    page.fill("#q", sandbox.qr_code("AIZU-SANDBOX-0005"))
    page.press("#q", "Enter")

    expect(page.locator("#city-os-notice")).to_contain_text("共有していません")
    expect(page.locator("#walk-in")).to_have_attribute("open", "")
    _shoot(page, "desk-city-os-not-shared")


def test_hq_sees_residents_outside_shelters_by_area_during_a_disaster(page, live_server, log_in, sandbox):
    hq = UserFactory(username="hq-desk", role=Role.HQ)
    Disaster.objects.create(name="テスト地震", started_at=timezone.now(), declared_by=hq)
    log_in(page, "hq-desk")

    page.goto(f"{live_server.url}/dashboard/")

    areas = page.locator("#outside-areas")
    expect(areas).to_contain_text("東山温泉")
    expect(areas.locator("tfoot")).to_contain_text("2")
    areas.scroll_into_view_if_needed()
    _shoot(page, "hq-outside-areas")
