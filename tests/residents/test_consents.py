"""/me/consents/: the resident's answers saved through consent.services as one consent record,
changing the ledger the access layer decides by; bad input refused naming the field, nothing written."""

import pytest

from access import consent as enforcement
from consent.models import ConsentDecision, ConsentRecord, ConsentSubject
from consent.rules import Category, Method

pytestmark = pytest.mark.django_db

URL = "/me/consents/"


def test_the_grid_offers_every_cell_grouped_by_recipient(resident, as_user):
    body = as_user(resident).get(URL).content.decode()

    assert body.count(' name="c.') == 7 * 5 * 2
    for recipient in ("shelter_staff", "hq", "health", "supporters", "family"):
        assert f'id="recipient-{recipient}"' in body


def test_the_page_explains_purposes_recipients_and_the_legal_rules_with_their_articles(resident, as_user):
    body = as_user(resident).get(URL).content.decode()

    assert "災害対策基本法 第49条の11第3項" in body
    assert "個人情報保護法 第69条第2項第4号" in body
    assert "民生委員" in body  # the supporters, described


def test_a_refusal_is_saved_as_one_consent_record_and_changes_the_ledger(resident, manager_a, as_user):
    assert enforcement.allows(manager_a, resident.person, Category.BASIC)  # the standing rule

    response = as_user(resident).post(
        URL, {"c.shelter_staff.peacetime.basic": "refused", "c.hq.peacetime.contact": "given", "timing": "once"}
    )

    assert response.status_code == 302
    record = ConsentRecord.objects.get()
    assert record.method == Method.RESIDENT_PAGE
    assert record.collected_by == resident
    assert record.subject == "cityos:AIZU-TEST-0001"
    assert record.timing == "once"
    assert sorted((c["recipient"], c["category"], c["decision"], c["was"]) for c in record.changes) == [
        ("hq", "contact", "given", "not_asked"),
        ("shelter_staff", "basic", "refused", "not_asked"),
    ]
    assert ConsentSubject.objects.get(key="cityos:AIZU-TEST-0001").timing == "once"
    resident.person.refresh_from_db()
    assert not enforcement.allows(manager_a, resident.person, Category.BASIC)


def test_the_page_shows_the_saved_choices_and_taking_one_back_makes_it_not_asked(resident, as_user):
    client = as_user(resident)
    client.post(URL, {"c.family.disaster.location": "given"})

    body = client.get(URL).content.decode()
    assert 'name="c.family.disaster.location" aria-label' in body
    assert 'class="decision-given"' in body

    client.post(URL, {"c.family.disaster.location": "not_asked"})
    assert not ConsentDecision.objects.exists()
    assert ConsentRecord.objects.count() == 2


def test_sending_the_same_choices_again_makes_no_record(resident, as_user):
    client = as_user(resident)
    client.post(URL, {"c.hq.disaster.basic": "given"})
    client.post(URL, {"c.hq.disaster.basic": "given"})

    assert ConsentRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"c.hq.peacetime.blood_type": "given"}, "c.hq.peacetime.blood_type"),
        ({"c.police.peacetime.basic": "given"}, "c.police.peacetime.basic"),
        ({"c.hq.someday.basic": "given"}, "c.hq.someday.basic"),
        ({"c.hq.peacetime.basic": "maybe"}, "c.hq.peacetime.basic"),
        ({"c.hq.peacetime.basic": "given" * 1000}, "c.hq.peacetime.basic"),
        ({"surprise": "1"}, "surprise"),
        ({"timing": "never"}, "timing"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(resident, as_user, data, field):
    good = {"c.hq.peacetime.contact": "given"}  # sent with it, and not saved either

    response = as_user(resident).post(URL, {**good, **data})

    assert response.status_code == 400
    assert f"<code>{field}</code>" in response.content.decode()
    assert not ConsentRecord.objects.exists()
    assert not ConsentDecision.objects.exists()


def test_a_nul_character_is_refused_naming_the_field(resident, as_user):
    response = as_user(resident).post(URL, {"c.hq.peacetime.basic": "given\x00"})

    assert response.status_code == 400
    assert "c.hq.peacetime.basic" in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_a_field_name_too_long_is_cut_short_in_the_error(resident, as_user):
    response = as_user(resident).post(URL, {"c." + "x" * 5000: "given"})

    assert response.status_code == 400
    assert "x" * 200 not in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_staff_and_anonymous_cannot_post_consents(manager_a, as_user):
    assert as_user(manager_a).post(URL, {"c.hq.peacetime.basic": "given"}).status_code == 404
    assert as_user(None).post(URL, {"c.hq.peacetime.basic": "given"}).status_code == 302
    assert not ConsentRecord.objects.exists()


def test_the_timing_the_form_always_sends_is_recorded_only_when_it_changes(resident, as_user):
    client = as_user(resident)
    client.post(URL, {"c.hq.disaster.basic": "given", "timing": "once"})
    client.post(URL, {"c.hq.disaster.basic": "refused", "timing": "once"})
    client.post(URL, {"c.hq.disaster.basic": "refused", "timing": "every_time"})

    assert [record.timing for record in ConsentRecord.objects.order_by("id")] == ["once", "", "every_time"]
