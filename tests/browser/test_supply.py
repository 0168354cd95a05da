"""A shelter manager files a supply request; the real Celery worker plans it; the promised date
appears on the shelter's dashboard (and its supplies page) without a reload."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.system import DEMO_PASSWORD, Session, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_a_manager_files_a_request_and_the_promised_date_appears_on_the_dashboard_without_a_reload(browser, system):
    system.env["SUPPLY_PLAN_DEBOUNCE_SECONDS"] = "1"
    system.without_sample_survey_answers()  # their requests would be planned and notified too
    server = system.start_daphne()
    system.start_celery("worker", "--concurrency", "1", "--loglevel", "info")
    desk = Session(server, "manager")
    shelter = desk.api("GET", "/api/shelters/").json()["results"][0]

    # A device set to another time zone still sees the city's (Asia/Tokyo) times.
    context = browser.new_context(
        viewport={"width": 1024, "height": 768}, locale="ja-JP", timezone_id="America/Los_Angeles"
    )
    dashboard = context.new_page()
    dashboard.set_default_timeout(30_000)
    dashboard.goto(f"{server}/login/")
    dashboard.fill("input[name=username]", "manager")
    dashboard.fill("input[name=password]", DEMO_PASSWORD)
    dashboard.click("main button[type=submit]")
    dashboard.goto(f"{server}/dashboard/shelters/{shelter['id']}/")
    expect(dashboard.locator("#live-status")).to_have_attribute("data-state", "live")
    dashboard.evaluate("window.stillTheSamePage = true")

    supplies = context.new_page()
    supplies.set_default_timeout(30_000)
    supplies.goto(f"{server}/supplies/shelters/{shelter['id']}/")
    supplies.select_option("#request-form select[name=item]", "water")
    supplies.fill("#request-form input[name=quantity]", "12")
    supplies.select_option("#request-form select[name=urgency]", "urgent")
    supplies.click("#request-form button[type=submit]")

    filed = supplies.locator("#requests tr").first
    expect(filed).to_contain_text("飲料水")
    # The worker plans it; the shelter's stream brings the notification, the pages update in place.
    expect(dashboard.locator("#notifications")).to_contain_text("飲料水")
    rows = desk.api("GET", "/api/supply/requests/", params={"shelter": shelter["id"]}).json()["results"]
    promised = datetime.fromisoformat(rows[0]["promised_at"]).astimezone(ZoneInfo("Asia/Tokyo"))
    expected = f"{promised:%Y/%m/%d} {promised.hour}:{promised:%M}"
    expect(dashboard.locator("#notifications")).to_contain_text(expected)
    expect(filed.locator("[data-field=status]")).to_have_text("計画済み")
    expect(filed.locator("[data-field=promised]")).to_have_text(f"{promised.month}/{promised.day} {promised:%H:%M}")
    assert dashboard.evaluate("window.stillTheSamePage") is True

    # HQ dispatches; the delivery shows up on the supplies page; the manager confirms 10 of 12,
    # and the missing 2 are requested again by themselves.
    supplies.evaluate("window.stillTheSamePage = true")
    hq = Session(server, "hq")
    response = hq.api("POST", f"/api/supply/tasks/{rows[0]['task']}/dispatch/")
    assert response.status_code == 200, response.text
    arriving = supplies.locator(f'#arriving tr[data-task="{rows[0]["task"]}"]')
    expect(arriving).to_contain_text("発送済み")
    arriving.locator("input[name=quantity]").fill("10")
    arriving.locator("button[type=submit]").click()
    rest = supplies.locator("#requests tr").first
    expect(rest.locator("td").nth(2)).to_have_text("2")
    expect(rest.locator("td").nth(1)).to_have_text("飲料水（2L）")
    expect(supplies.locator("#arriving")).not_to_contain_text("飲料水")
    assert supplies.evaluate("window.stillTheSamePage") is True
    context.close()


def test_hq_sees_a_new_task_on_the_supply_board_without_a_reload_and_dispatches_it(page, system):
    system.env["SUPPLY_PLAN_DEBOUNCE_SECONDS"] = "1"
    system.without_sample_survey_answers()  # their requests would be planned and notified too
    server = system.start_daphne()
    system.start_celery("worker", "--concurrency", "1", "--loglevel", "info")
    desk = Session(server, "manager")
    shelter = desk.api("GET", "/api/shelters/").json()["results"][0]

    page.set_default_timeout(30_000)
    page.goto(f"{server}/login/")
    page.fill("input[name=username]", "hq")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{server}/supplies/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.evaluate("window.stillTheSamePage = true")

    response = desk.api(
        "POST", "/api/supply/requests/", json={"shelter": shelter["id"], "item": "masks", "quantity": 30}
    )
    assert response.status_code == 201, response.text
    assert wait_for(
        lambda: desk.api("GET", f"/api/supply/requests/{response.json()['id']}/").json()["task"] is not None,
        timeout=30,
    )
    task_id = desk.api("GET", f"/api/supply/requests/{response.json()['id']}/").json()["task"]

    row = page.locator(f'#tasks tr[data-task="{task_id}"]')
    expect(row).to_contain_text("マスク")
    expect(row).to_contain_text("計画済み")
    row.locator('button[data-step="dispatch"]').click()
    expect(row).to_contain_text("発送済み")
    assert page.evaluate("window.stillTheSamePage") is True
