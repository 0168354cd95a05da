import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import selectors
from shelters import services
from shelters.selectors import shelter_alerts
from tests.factories import EvacueeFactory, ShelterFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["hq", "manager_a", "manager_b", "official", "anonymous"]


@pytest.fixture
def people(hq, manager_a, manager_b, official):
    return {"hq": hq, "manager_a": manager_a, "manager_b": manager_b, "official": official, "anonymous": None}


def status_of(response):
    if response.status_code == 302 and "/login/" in response["Location"]:
        return "login"
    return response.status_code


PAGES = {
    "hq dashboard": (
        lambda a: reverse("dashboard:hq"),
        dict(hq=200, manager_a=403, manager_b=403, official=200, anonymous="login"),
    ),
    "shelter A dashboard": (
        lambda a: reverse("dashboard:shelter", args=[a.pk]),
        dict(hq=200, manager_a=200, manager_b=403, official=200, anonymous="login"),
    ),
    "city history": (
        lambda a: reverse("dashboard:history"),
        dict(hq=200, manager_a=403, manager_b=403, official=200, anonymous="login"),
    ),
    "shelter A history": (
        lambda a: reverse("dashboard:history") + f"?shelter={a.pk}",
        dict(hq=200, manager_a=200, manager_b=403, official=200, anonymous="login"),
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", PAGES)
def test_each_dashboard_page_answers_each_persona_as_the_policy_says(page, persona, people, as_user, shelter_a):
    url, expected = PAGES[page]

    assert status_of(as_user(people[persona]).get(url(shelter_a))) == expected[persona]


def embedded(response, element_id):
    html = response.content.decode()
    start = html.index(f'id="{element_id}" type="application/json">') + len(
        f'id="{element_id}" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_the_shelter_dashboard_shows_names_to_its_manager_and_not_to_an_official(
    as_user, manager_a, official, hq, shelter_a
):
    person = EvacueeFactory(name="配慮 花子")
    services.evacuee_update(evacuee_id=person.pk, actor=hq, changes={"requires_evacuation_support": True})
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)
    url = reverse("dashboard:shelter", args=[shelter_a.pk])

    for_manager = as_user(manager_a).get(url)
    for_official = as_user(official).get(url)

    assert [p["name"] for p in embedded(for_manager, "snapshot")["support_list"]] == ["配慮 花子"]
    assert embedded(for_official, "snapshot")["support_list"] is None
    assert "配慮 花子" not in for_official.content.decode()


def test_the_hq_dashboard_serves_plotly_from_our_own_static_files(as_user, hq, client):
    html = as_user(hq).get(reverse("dashboard:hq")).content.decode()

    assert "/static/vendor/plotly/plotly.min.js" in html
    assert "cdn" not in html.lower()


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        (dict(status="open", capacity=100, occupancy=50, outside_count=0, support_people=0), []),
        (dict(status="open", capacity=100, occupancy=90, outside_count=0, support_people=0), ["nearly_full"]),
        (dict(status="full", capacity=100, occupancy=100, outside_count=0, support_people=0), ["full"]),
        (dict(status="open", capacity=None, occupancy=500, outside_count=0, support_people=0), []),
        (dict(status="closed", capacity=100, occupancy=0, outside_count=2, support_people=0), ["closed_with_people"]),
        (dict(status="closed", capacity=100, occupancy=0, outside_count=0, support_people=0), []),
        (dict(status="open", capacity=100, occupancy=40, outside_count=0, support_people=10), ["many_needing_support"]),
        (dict(status="open", capacity=100, occupancy=8, outside_count=0, support_people=2), ["many_needing_support"]),
        (dict(status="open", capacity=100, occupancy=8, outside_count=0, support_people=1), []),
    ],
)
def test_alerts_follow_the_figures(figures, expected):
    assert shelter_alerts(**figures) == expected


def test_occupancy_history_is_rebuilt_from_the_stays(hq):
    shelter = ShelterFactory(capacity=None)
    now = timezone.now()
    people = EvacueeFactory.create_batch(3)
    services.stay_check_in(
        shelter_id=shelter.pk, evacuee_ids=[p.pk for p in people], actor=hq, at=now - timedelta(hours=5)
    )
    stay = shelter.stays.first()
    services.stay_check_out(stay_id=stay.pk, actor=hq, destination="home", at=now - timedelta(hours=1))
    services.stay_check_in(
        shelter_id=shelter.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq, at=now - timedelta(hours=30)
    )

    series = selectors.occupancy_history(shelter_ids=[shelter.pk], hours=24, now=now)

    assert series.occupancy[0] == 1  # the one who came 30 hours ago
    assert max(series.occupancy) == 4
    assert series.occupancy[-1] == 3
    assert sum(series.arrivals) == 3 and sum(series.departures) == 1
