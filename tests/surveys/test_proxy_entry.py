"""Shelter staff enter a resident's answers on a tablet (from paper, or asking them)."""

import pytest
from django.urls import reverse

from common.models import AuditEntry
from supply.models import Request
from surveys.models import FollowUp, Response
from tests.surveys.conftest import k6_post, status_of

pytestmark = pytest.mark.django_db

PERSONAS = ["hq", "manager_a", "manager_b", "official", "anonymous"]
EXPECTED = {"hq": 200, "manager_a": 200, "manager_b": 403, "official": 403, "anonymous": "login"}


def proxy_url(shelter):
    return reverse("surveys:proxy", args=[shelter.pk])


@pytest.mark.parametrize("persona", PERSONAS)
def test_proxy_entry_is_for_the_shelters_managers_and_hq(as_user, people, persona, shelter_a, version):
    response = as_user(people[persona]).get(proxy_url(shelter_a))

    assert status_of(response) == EXPECTED[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_shelters_managers_and_hq_can_submit_for_it(as_user, people, persona, shelter_a, version):
    response = as_user(people[persona]).post(
        proxy_url(shelter_a), {"version": version.pk, "submission_key": "p1", **k6_post([0] * 6)}
    )

    assert status_of(response) == {"hq": 302, "manager_a": 302}.get(persona, EXPECTED[persona])
    assert Response.objects.exists() == (persona in ("hq", "manager_a"))


def test_the_resident_list_offers_only_this_shelters_residents(as_user, manager_a, shelter_a, resident_a, resident_b):
    response = as_user(manager_a).get(proxy_url(shelter_a))
    page = response.content.decode()

    assert response.status_code == 200
    assert f'<option value="{resident_a.pk}">{resident_a.name}' in page
    assert resident_b.name not in page


def test_staff_enter_a_residents_answers_which_are_linked_audited_and_followed_up(
    as_user, manager_a, shelter_a, resident_a, version
):
    response = as_user(manager_a).post(
        proxy_url(shelter_a),
        {
            "version": version.pk,
            "submission_key": "p1",
            "respondent": resident_a.pk,
            **k6_post([4, 4, 4, 1, 0, 0]),
            "q-needs": ["water"],
            "q-needs_water_quantity": "2",
        },
    )

    assert response.status_code == 302
    stored = Response.objects.get()
    assert (stored.channel, stored.entered_by, stored.respondent, stored.k6_score) == (
        "proxy",
        manager_a,
        resident_a,
        13,
    )
    assert FollowUp.objects.get(evacuee=resident_a).k6_score == 13
    assert Request.objects.get().quantity == 2
    audit = AuditEntry.objects.get(action="survey_response.submit")
    assert audit.actor == manager_a and audit.details["for_person"] is True


def test_staff_enter_an_anonymous_answer(as_user, hq, shelter_a, version):
    as_user(hq).post(proxy_url(shelter_a), {"version": version.pk, "submission_key": "p1", "respondent": ""})

    stored = Response.objects.get()
    assert stored.respondent is None and stored.entered_by == hq and stored.channel == "proxy"


def test_a_resident_of_another_shelter_is_refused(as_user, hq, shelter_a, resident_b, version):
    response = as_user(hq).post(
        proxy_url(shelter_a),
        {"version": version.pk, "submission_key": "p1", "respondent": resident_b.pk, "q-issue_noise": "7"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "この避難所の避難者を選ぶか" in page
    assert "0から4の数で答えてください。" in page  # the answers' own errors come with it
    assert not Response.objects.exists()


def test_a_double_submit_from_the_tablet_stores_once(as_user, manager_a, shelter_a, version):
    client = as_user(manager_a)
    data = {"version": version.pk, "submission_key": "same", **k6_post([1] * 6)}

    client.post(proxy_url(shelter_a), data)
    client.post(proxy_url(shelter_a), data)

    assert Response.objects.count() == 1


def test_bad_answers_are_shown_next_to_their_questions_and_kept(as_user, manager_a, shelter_a, resident_a, version):
    response = as_user(manager_a).post(
        proxy_url(shelter_a),
        {
            "version": version.pk,
            "submission_key": "p1",
            "respondent": resident_a.pk,
            "q-needs": ["water"],
            "q-needs_water_quantity": "abc",
            "q-comment": "夜が寒い",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    quantity = page.split('id="question-needs_water_quantity"')[1].split("</fieldset>")[0]
    assert "整数を入力してください。" in quantity
    assert "夜が寒い" in page
    assert f'value="{resident_a.pk}" selected' in page
    assert not Response.objects.exists()


def test_the_shelter_page_links_to_the_poster_and_proxy_entry(as_user, manager_a, shelter_a):
    response = as_user(manager_a).get(reverse("shelters:detail", args=[shelter_a.pk]))
    page = response.content.decode()

    assert response.status_code == 200
    assert reverse("surveys:poster", args=[shelter_a.pk]) in page
    assert proxy_url(shelter_a) in page


def test_an_official_sees_no_survey_links_on_the_shelter_page(as_user, official, shelter_a):
    response = as_user(official).get(reverse("shelters:detail", args=[shelter_a.pk]))
    page = response.content.decode()

    # The shelter's own page, not a refusal (which would lack the links too).
    assert response.status_code == 200
    assert f"<h1>{shelter_a.name}" in page and f"<dd>{shelter_a.code}</dd>" in page
    assert proxy_url(shelter_a) not in page
    assert reverse("surveys:poster", args=[shelter_a.pk]) not in page
    assert 'id="survey-links"' not in page
