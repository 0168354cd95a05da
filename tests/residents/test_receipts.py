"""The consent receipt (ISO/IEC TS 27560 / Kantara Consent Receipt): every required field."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from consent.rules import Method
from consent.services import Change, consents_record
from residents.receipts import consent_receipt

pytestmark = pytest.mark.django_db

REQUIRED = {
    "version",
    "receipt_id",
    "timestamp",
    "jurisdiction",
    "collection_method",
    "pii_principal_id",
    "pii_controllers",
    "policy_url",
    "purposes",
    "pii_categories",
    "recipients",
    "contexts",
    "decisions",
    "sensitive",
    "spi_categories",
    "withdrawal",
}


def _record(user, was=None):
    if was:
        consents_record(
            subject="cityos:AIZU-TEST-0001",
            changes=[Change("support", "supporters", "disaster", was)],
            method=Method.DESK,
            collected_by=user,
        )
    return consents_record(
        subject="cityos:AIZU-TEST-0001",
        changes=[Change("support", "supporters", "disaster", "given"), Change("basic", "hq", "peacetime", "refused")],
        method=Method.RESIDENT_PAGE,
        collected_by=user,
        timing="every_time",
    )


@override_settings(
    CONSENT_CONTROLLER_NAME="会津若松市",
    CONSENT_CONTROLLER_CONTACT="個人情報保護窓口 0242-00-0000",
    CONSENT_CONTROLLER_ADDRESS="福島県会津若松市東栄町3番46号",
    CONSENT_PRIVACY_POLICY_URL="https://example.jp/privacy",
)
def test_a_receipt_has_every_required_field(resident):
    record = _record(resident, was="refused")

    receipt = consent_receipt(record, withdraw_url="https://shelters.example.jp/me/consents/")

    assert set(receipt) >= REQUIRED
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["receipt_id"] == str(record.receipt_id)
    assert receipt["timestamp"].endswith("+09:00")
    assert receipt["jurisdiction"] == "JP"
    assert receipt["collection_method"]["code"] == "resident_page"
    assert receipt["collected_by"] == "pii_principal"
    assert receipt["pii_principal_id"] == "cityos:AIZU-TEST-0001"
    assert receipt["pii_controllers"] == [
        {
            "name": "会津若松市",
            "contact": "個人情報保護窓口 0242-00-0000",
            "address": "福島県会津若松市東栄町3番46号",
            "privacy_policy_url": "https://example.jp/privacy",
            "on_behalf": False,
        }
    ]
    assert receipt["policy_url"] == "https://example.jp/privacy"
    assert [p["pii_category"] for p in receipt["purposes"]] == ["support", "basic"]
    assert all(p["purpose"] for p in receipt["purposes"])
    assert [c["code"] for c in receipt["pii_categories"]] == ["support", "basic"]
    assert receipt["sensitive"] is True
    assert receipt["spi_categories"] == ["support"]
    assert [(r["code"], r["third_party"]) for r in receipt["recipients"]] == [("supporters", True), ("hq", False)]
    assert all(r["description"] for r in receipt["recipients"])
    assert [c["code"] for c in receipt["contexts"]] == ["disaster", "peacetime"]
    assert [(d["pii_category"], d["decision"], d["previous_decision"]) for d in receipt["decisions"]] == [
        ("support", "given", "refused"),
        ("basic", "refused", "not_asked"),
    ]
    assert receipt["timing_preference"]["code"] == "every_time"
    assert receipt["withdrawal"]["url"] == "https://shelters.example.jp/me/consents/"
    assert receipt["withdrawal"]["contact"] == "個人情報保護窓口 0242-00-0000"
    assert receipt["withdrawal"]["how"]


def test_a_receipt_never_names_the_staff_member_who_collected_it(resident, manager_a):
    record = consents_record(
        subject="cityos:AIZU-TEST-0001",
        changes=[Change("basic", "hq", "peacetime", "given")],
        method=Method.DESK,
        collected_by=manager_a,
    )

    receipt = consent_receipt(record, withdraw_url="/me/consents/")

    assert receipt["collected_by"] == "shelter_staff"
    assert "manager_a" not in json.dumps(receipt)


def test_the_receipt_downloads_as_json_with_the_absolute_withdrawal_url(resident, as_user):
    record = _record(resident)

    response = as_user(resident).get(reverse("me:receipt", args=[record.receipt_id]))

    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    receipt = json.loads(response.content)
    assert receipt["receipt_id"] == str(record.receipt_id)
    assert receipt["withdrawal"]["url"] == "http://testserver/me/consents/"
    assert receipt["pii_controllers"][0]["name"] == "会津若松市"


def test_the_records_page_lists_each_change_with_its_receipt_link(resident, as_user):
    record = _record(resident)

    body = as_user(resident).get(reverse("me:records")).content.decode()

    assert reverse("me:receipt", args=[record.receipt_id]) in body
