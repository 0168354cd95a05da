"""The City OS at the desk and on the HQ dashboard, in the browser, against the sandbox process: a
manager scans a resident's QR code (a scanner types it into the search box), confirms the family
the City OS shares and checks them in with one tap; HQ sees the residents outside shelters by area."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shelters.models import Disaster, Role, Stay
from tests.browser.shots import shoot
from tests.factories import ShelterFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_scanned_city_os_code_checks_the_family_in_with_one_tap(page, live_server, log_in, city_os_for_live_server):
    shelter = ShelterFactory(name="鶴城小学校 (テスト)", capacity=100)
    UserFactory(username="desk", role=Role.MANAGER, shelters=[shelter])
    log_in(page, "desk")
    page.goto(f"{live_server.url}/shelters/{shelter.pk}/desk/")

    page.fill("#q", city_os_for_live_server.qr_code("AIZU-SANDBOX-0001"))
    page.press("#q", "Enter")

    panel = page.locator("#city-os")
    expect(panel).to_contain_text("山田 太郎")
    expect(panel).to_contain_text("山田 花子")
    expect(panel).to_contain_text("山田 空")
    expect(panel.locator("input[name=members]:checked")).to_have_count(3)
    shoot(page, "desk-city-os-confirm")

    page.click("#city-os-check-in")

    expect(page.locator(".messages, .message, [role=status]").first).to_contain_text("3")
    assert Stay.objects.filter(shelter=shelter, checked_out_at__isnull=True).count() == 3
    shoot(page, "desk-city-os-checked-in")


def test_a_resident_who_does_not_share_is_sent_to_the_walk_in_form(page, live_server, log_in, city_os_for_live_server):
    shelter = ShelterFactory(capacity=100)
    UserFactory(username="desk", role=Role.MANAGER, shelters=[shelter])
    log_in(page, "desk")
    page.goto(f"{live_server.url}/shelters/{shelter.pk}/desk/")

    page.fill("#q", city_os_for_live_server.qr_code("AIZU-SANDBOX-0005"))
    page.press("#q", "Enter")

    expect(page.locator("#city-os-notice")).to_contain_text("共有していません")
    expect(page.locator("#walk-in")).to_have_attribute("open", "")
    shoot(page, "desk-city-os-not-shared")


def test_hq_sees_residents_outside_shelters_by_area_during_a_disaster(
    page, live_server, log_in, city_os_for_live_server
):
    hq = UserFactory(username="hq-desk", role=Role.HQ)
    Disaster.objects.create(name="テスト地震", started_at=timezone.now(), declared_by=hq)
    log_in(page, "hq-desk")

    page.goto(f"{live_server.url}/dashboard/")

    areas = page.locator("#outside-areas")
    expect(areas).to_contain_text("東山温泉")
    expect(areas.locator("tfoot")).to_contain_text("2")
    areas.scroll_into_view_if_needed()
    shoot(page, "hq-outside-areas")
