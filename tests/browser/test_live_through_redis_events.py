"""A dashboard left open through Redis events: it never says "live" on old figures.

The system has a private redis-server (never the machine's shared one), so the tests can restart it
empty or freeze it while a real Chromium shows the HQ dashboard served by a real daphne.
"""

import signal
import time

import pytest
from playwright.sync_api import expect

from tests.system import DEMO_PASSWORD, Session

pytestmark = [pytest.mark.browser, pytest.mark.integration]

RECOVERY_SECONDS = 10  # the bound: figures right again within 10 s of Redis coming back
STALE_TIMEOUT_MS = 20_000  # heartbeats every 3 s; the page says "stale" after 8 s without news
SCREENSHOTS = {"desktop": {"width": 1024, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def server(redis_and_system):
    _redis_server, system = redis_and_system
    url = system.start_daphne()
    yield url
    process = system.processes.pop()
    process.terminate()
    process.wait(timeout=10)


def open_hq_dashboard(page, server):
    page.goto(f"{server}/login/")
    page.fill("input[name=username]", "hq")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{server}/dashboard/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.evaluate("window.stillTheSamePage = true")


def people_staying_nowhere(desk: Session, count: int) -> list[int]:
    people = desk.api("GET", "/api/evacuees/", params={"limit": 400}).json()["results"]
    return [p["id"] for p in people if p["current_stay"] is None][:count]


def check_in_one_by_one(desk: Session, shelters: list[int], people: list[int]) -> None:
    for index, person in enumerate(people):
        response = desk.api(
            "POST", "/api/check-ins/", json={"shelter": shelters[index % len(shelters)], "evacuees": [person]}
        )
        assert response.status_code == 201, response.text


def occupancy_in_database(desk: Session) -> dict[int, int]:
    page = desk.api("GET", "/api/shelters/", params={"limit": 500}).json()
    assert page["next"] is None, "more shelters than one page holds"
    return {s["id"]: s["occupancy"] for s in page["results"]}


def occupancy_on_page(page) -> dict[int, int]:
    rows = page.evaluate(
        """() => Array.from(document.querySelectorAll('#shelters tr[data-shelter]')).map(
            row => [Number(row.dataset.shelter), Number(row.querySelector('[data-field=occupancy]').textContent)])"""
    )
    return dict(rows)


@pytest.mark.parametrize(
    "checked_in_after",
    [6, 0],
    ids=["with-check-ins-after-the-restart", "with-none-after-it-the-heartbeat-brings-the-new-epoch"],
)
def test_a_dashboard_open_across_an_empty_redis_restart_shows_the_databases_figures_without_a_reload(
    page, server, redis_and_system, checked_in_after
):
    redis_server, _system = redis_and_system
    desk = Session(server, "hq")
    shelters = [s["id"] for s in desk.api("GET", "/api/shelters/", params={"status": "open"}).json()["results"]]
    people = people_staying_nowhere(desk, 8 + checked_in_after)
    before, during, after = people[:6], people[6:8], people[8:]
    open_hq_dashboard(page, server)
    # The stream's counter is well past 1 before the restart, as on a dashboard open for hours.
    check_in_one_by_one(desk, shelters, before)
    expect(page.locator("#total-inside")).to_have_text(f"{sum(occupancy_in_database(desk).values()):,}")

    redis_server.stop()
    check_in_one_by_one(desk, shelters, during)  # committed while Redis is down: their events are lost
    redis_server.start()  # empty: nothing is saved
    restarted = time.monotonic()
    check_in_one_by_one(desk, shelters, after)

    expected = occupancy_in_database(desk)
    expect(page.locator("#total-inside")).to_have_text(f"{sum(expected.values()):,}", timeout=RECOVERY_SECONDS * 1000)
    recovered = time.monotonic() - restarted
    assert occupancy_on_page(page) == expected
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    assert page.evaluate("window.stillTheSamePage") is True
    print(
        f"\nfigures right {recovered:.1f} s after Redis restarted empty ({len(during)} check-ins while it was down, {len(after)} after)"
    )


def test_the_indicator_says_stale_while_the_browser_is_offline_or_redis_is_frozen(
    page, server, redis_and_system, tmp_path
):
    redis_server, _system = redis_and_system
    status = page.locator("#live-status")
    open_hq_dashboard(page, server)
    screenshots = {"live": screenshot_indicator(page, tmp_path, "live")}

    page.context.set_offline(True)
    expect(status).to_have_attribute("data-state", "stale")
    expect(status).to_contain_text("オフライン")
    screenshots["offline"] = screenshot_indicator(page, tmp_path, "offline")
    page.context.set_offline(False)
    expect(status).to_have_attribute("data-state", "live", timeout=STALE_TIMEOUT_MS)

    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        expect(status).to_have_attribute("data-state", "stale", timeout=STALE_TIMEOUT_MS)
        expect(status).to_contain_text("更新が途絶えています")
        screenshots["stale"] = screenshot_indicator(page, tmp_path, "stale")
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    expect(status).to_have_attribute("data-state", "live", timeout=STALE_TIMEOUT_MS)
    assert page.evaluate("window.stillTheSamePage") is True
    print("\nscreenshots of the indicator:", *sorted(str(p) for shots in screenshots.values() for p in shots))


def screenshot_indicator(page, directory, state: str) -> list:
    """The page's head at each size (kept with the test's files, to look at)."""
    paths = []
    for name, viewport in SCREENSHOTS.items():
        page.set_viewport_size(viewport)
        path = directory / f"indicator-{state}-{name}.png"
        page.screenshot(path=path)
        paths.append(path)
    page.set_viewport_size(SCREENSHOTS["desktop"])
    return paths
