"""Residents outside the shelters who share their location, counted per area by the City OS (the
sandbox), on the HQ dashboard during a disaster only; a City OS that is down leaves the page working."""

import http.server
import threading
import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from cityos import locations, tasks
from shelters.models import Disaster
from tests.system import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def disaster(hq):
    return Disaster.objects.create(name="テスト地震", started_at=timezone.now(), declared_by=hq)


def dashboard(as_user, user):
    response = as_user(user).get(reverse("dashboard:hq"))
    assert response.status_code == 200
    return response.content.decode()


def area_rows(html: str) -> dict[str, str]:
    section = html.split('id="outside-areas"', 1)[1].split("</section>", 1)[0]
    rows = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    return {row.split("<td>")[1].split("</td>")[0]: row.split('<td class="num">')[1].split("</td>")[0] for row in rows}


def test_during_a_disaster_hq_sees_the_counts_per_area(city_os, disaster, hq, as_user):
    html = dashboard(as_user, hq)

    assert area_rows(html) == {
        "鶴ケ城周辺 (Tsurugajo area)": "0",
        "会津若松駅周辺 (Aizuwakamatsu Station area)": "1",
        "東山温泉 (Higashiyama Onsen)": "1",
    }
    # Counts only: no resident's name, ID or address reaches the page.
    for personal in ("鈴木 トメ", "高橋 舞", "AIZU-SANDBOX-0004", "AIZU-SANDBOX-0006", "湯本"):
        assert personal not in html


def test_officials_see_the_counts_with_small_areas_hidden(city_os, disaster, official, as_user):
    # An area where one person shares their location is close to that person's position: officials,
    # whom nobody allowed, see the survey figures' small-cell rule (1 to 4 is "<5"), total included.
    html = dashboard(as_user, official)

    assert area_rows(html) == {
        "鶴ケ城周辺 (Tsurugajo area)": "0",
        "会津若松駅周辺 (Aizuwakamatsu Station area)": "&lt;5",
        "東山温泉 (Higashiyama Onsen)": "&lt;5",
    }
    total = html.split('id="outside-areas"', 1)[1].split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    assert '<th class="num">&lt;5</th>' in total


def test_one_small_area_among_large_ones_takes_a_partner_so_the_total_cannot_give_it_back(official):
    from dashboard import selectors

    counts = locations.AreaCounts(
        available=True,
        areas=[locations.Area("a", "A", 2), locations.Area("b", "B", 40), locations.Area("c", "C", 12)],
        as_of=timezone.now(),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(selectors.locations, "area_counts", lambda: counts)
        patch.setattr(selectors.consent, "current_context", lambda: "disaster")
        shown = selectors.outside_areas(official)

    assert [row.count for row in shown.rows] == ["<5", 40, "x"]
    assert shown.total == 54


def test_in_peacetime_there_are_no_counts_and_no_call_to_the_city_os(city_os, settings, hq, as_user):
    settings.CITYOS_LOCATION_URL = f"http://127.0.0.1:{free_port()}/api/location"

    html = dashboard(as_user, hq)

    assert 'id="outside-areas"' not in html
    assert tasks.location_counts_refresh() is False
    assert cache.get(locations.CACHE_KEY) is None  # nothing fetched, not even a failure


def test_a_city_os_that_is_down_leaves_the_page_with_a_notice(city_os, settings, disaster, hq, as_user):
    settings.CITYOS_LOCATION_URL = f"http://127.0.0.1:{free_port()}/api/location"

    html = dashboard(as_user, hq)

    assert 'id="outside-areas"' in html
    assert "いま City OS に接続できないため" in html
    assert "<tbody>" in html.split('id="shelters"', 1)[1]  # the rest of the page is there


def test_counts_are_served_from_the_cache_once_fetched(city_os, settings, disaster, hq, as_user):
    assert tasks.location_counts_refresh() is True
    settings.CITYOS_LOCATION_URL = f"http://127.0.0.1:{free_port()}/api/location"

    assert area_rows(dashboard(as_user, hq))["会津若松駅周辺 (Aizuwakamatsu Station area)"] == "1"


class _Hanging(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(2)
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_page_does_not_wait_for_a_city_os_that_hangs(city_os, settings, disaster, hq, as_user):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hanging)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.CITYOS_LOCATION_URL = f"http://127.0.0.1:{server.server_port}/api/location"
    settings.CITYOS_LOCATION_WAIT_SECONDS = 0
    try:
        html = dashboard(as_user, hq)
        # The answer had not come when the page was drawn: the page said so instead of waiting.
        assert "いま City OS に接続できないため" in html
    finally:
        locations._in_flight.result(timeout=30)
        server.shutdown()
        server.server_close()
