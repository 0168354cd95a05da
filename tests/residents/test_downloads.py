"""All my data, as JSON and as CSV (cells a spreadsheet would run are made inert)."""

import csv
import io
import json

import pytest
from django.urls import reverse

from consent.rules import Method
from consent.services import Change, consents_record
from residents.models import CorrectionRequest
from shelters.models import SupportCategory, SupportNeed

pytestmark = pytest.mark.django_db


@pytest.fixture
def everything(resident, shelter_a, manager_a, as_user, support_categories):
    from tests.surveys.follow_up_helpers import k6_answers, submit

    SupportNeed.objects.create(
        evacuee=resident.person, category=SupportCategory.objects.order_by("id").first(), notes="杖"
    )
    submit(shelter_a, k6_answers(18), respondent=resident.person)
    consents_record(
        subject="cityos:AIZU-TEST-0001",
        changes=[Change("survey", "health", "disaster", "given")],
        method=Method.RESIDENT_PAGE,
        collected_by=resident,
    )
    as_user(manager_a).get(reverse("shelters:residents", args=[shelter_a.pk]))
    return resident


def test_the_json_download_holds_every_section(everything, shelter_a, as_user):
    response = as_user(everything).get(reverse("me:data_json"))

    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["subject"] == "cityos:AIZU-TEST-0001"
    person = data["people"][0]
    assert (person["name"], person["phone"], person["address"]) == (
        "会津 花子",
        "0242-00-9001",
        "福島県会津若松市追手町1-1（テスト）",
    )
    assert person["support_needs"][0]["notes"] == "杖"
    assert person["stays"][0]["shelter"] == shelter_a.name
    assert [m["name"] for m in data["household"]] == ["会津 一郎"]
    assert data["survey_answers"][0]["k6_score"] == 18
    assert data["survey_answers"][0]["answers"]
    assert data["follow_ups"][0]["state"] == "new"
    assert len(data["consents"]["decisions"]) == 70
    assert data["consent_records"][0]["decisions"][0]["decision"] == "given"
    assert data["accesses"][0]["place"] == shelter_a.name
    assert data["accesses"][0]["role"] == "避難所の運営者"
    assert "manager_a" not in response.content.decode()


def test_the_csv_download_holds_the_same_and_neutralises_formulas(everything, as_user):
    CorrectionRequest.objects.create(
        requester=everything,
        evacuee=everything.person,
        field="name",
        message='=HYPERLINK("http://x","y")',
        created_at=everything.person.created_at,
    )

    response = as_user(everything).get(reverse("me:data_csv"))

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["区分", "項目", "項目名", "値"]
    cells = {(row[0], row[2]): row[3] for row in rows[1:]}
    assert cells[("people", "name")] == "会津 花子"
    assert cells[("household", "name")] == "会津 一郎"
    assert cells[("correction_requests", "message")] == '\'=HYPERLINK("http://x","y")'
    assert any(section == "accesses" for section, _name in cells)
    assert any(section == "survey_answers" for section, _name in cells)
    assert any(section == "consent_records" for section, _name in cells)
