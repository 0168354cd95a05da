import pytest
from playwright.sync_api import expect

from tests.browser.shots import shoot
from tests.system import DEMO_PASSWORD, Session

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def log_in_at(page, server, username):
    page.goto(f"{server}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")


def test_the_hq_dashboard_shows_a_check_in_made_through_the_api_without_a_reload(page, system):
    server = system.start_site()  # as `make run` serves it: the page and API on gunicorn, the socket on daphne
    shelter = Session(server, "manager").api("GET", "/api/shelters/").json()["results"][0]
    # HQ lists people who stay nowhere (a manager finds them only one by one, by an exact lookup).
    desk = Session(server, "hq")
    people = desk.api("GET", "/api/evacuees/", params={"limit": 300}).json()["results"]
    newcomers = [p["id"] for p in people if p["current_stay"] is None][:3]

    log_in_at(page, server, "hq")
    page.goto(f"{server}/dashboard/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    occupancy = page.locator(f'#shelters tr[data-shelter="{shelter["id"]}"] [data-field=occupancy]')
    before = int(occupancy.inner_text())
    total_before = int(page.locator("#total-inside").inner_text().replace(",", ""))
    page.evaluate("window.stillTheSamePage = true")

    response = desk.api("POST", "/api/check-ins/", json={"shelter": shelter["id"], "evacuees": newcomers})
    assert response.status_code == 201, response.text

    expect(occupancy).to_have_text(str(before + len(newcomers)))
    expect(page.locator("#total-inside")).to_have_text(f"{total_before + len(newcomers):,}")
    assert page.evaluate("window.stillTheSamePage") is True
    shoot(page, "hq-dashboard-after-check-in")


def test_the_dashboard_says_when_it_is_reconnecting(page, system):
    server = system.start_daphne()

    log_in_at(page, server, "official")
    page.goto(f"{server}/dashboard/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

    system.processes[-1].terminate()

    expect(page.locator("#live-status")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#live-status")).to_contain_text(":")


def test_a_burst_of_check_ins_costs_a_few_redraws_and_ends_on_exact_totals(page, system):
    server = system.start_daphne()
    desk = Session(server, "hq")
    shelters = [s["id"] for s in desk.api("GET", "/api/shelters/", params={"status": "open"}).json()["results"]]
    people = desk.api("GET", "/api/evacuees/", params={"limit": 400}).json()["results"]
    newcomers = [p["id"] for p in people if p["current_stay"] is None][:40]

    log_in_at(page, server, "hq")
    page.goto(f"{server}/dashboard/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.wait_for_timeout(500)
    total_before = int(page.locator("#total-inside").inner_text().replace(",", ""))
    renders_before = int(page.evaluate("document.body.dataset.renders"))

    started = page.evaluate("Date.now()")
    for index, person in enumerate(newcomers):
        response = desk.api(
            "POST", "/api/check-ins/", json={"shelter": shelters[index % len(shelters)], "evacuees": [person]}
        )
        assert response.status_code == 201, response.text

    expect(page.locator("#total-inside")).to_have_text(f"{total_before + len(newcomers):,}")
    seconds = (page.evaluate("Date.now()") - started) / 1000
    renders = int(page.evaluate("document.body.dataset.renders")) - renders_before
    # At most one redraw per 300 ms (plus the last one), however many events came in.
    assert renders <= seconds / 0.3 + 2


def test_a_dashboard_whose_session_ends_in_another_tab_says_signed_out_and_keeps_saying_it(page, system):
    server = system.start_daphne()
    shelter = Session(server, "manager").api("GET", "/api/shelters/").json()["results"][0]
    log_in_at(page, server, "manager")
    page.goto(f"{server}/dashboard/shelters/{shelter['id']}/")
    status = page.locator("#live-status")
    expect(status).to_have_attribute("data-state", "live")

    # The same browser, another tab: the same session cookie, logged out there.
    other = page.context.new_page()
    other.goto(f"{server}/")
    other.locator("form[action$='/logout/'] button").click()
    other.wait_for_load_state()

    expect(status).to_have_attribute("data-state", "signed_out")
    # The retries in between are refused at the handshake; they must not turn it into "reconnecting".
    page.wait_for_timeout(3000)
    expect(status).to_have_attribute("data-state", "signed_out")
    expect(status).to_contain_text("ログアウトしました")
