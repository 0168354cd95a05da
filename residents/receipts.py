"""A consent record as the receipt a resident downloads, after ISO/IEC TS 27560:2023 (consent
record information structure) and the Kantara Initiative Consent Receipt Specification v1.1.

One function builds it (`consent_receipt`), so the page, the download and the tests agree on
every field. Texts are in the language of the request; codes stay as they are, for machines.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from consent.models import ConsentRecord
from consent.rules import (
    CATEGORY_PURPOSES,
    NOT_ASKED,
    RECIPIENT_DETAILS,
    Category,
    Context,
    Decision,
    Method,
    Recipient,
    Timing,
)

RECEIPT_VERSION = "KI-CR-v1.1.0"
STANDARDS = ["ISO/IEC TS 27560:2023", "Kantara Initiative Consent Receipt Specification v1.1"]
# Health and support needs are 要配慮個人情報 (special care-required personal information).
SENSITIVE_CATEGORIES = {Category.SUPPORT}
# Outside the city's own offices: disclosure to them is to a third party.
THIRD_PARTY_RECIPIENTS = {Recipient.SUPPORTERS, Recipient.FAMILY}
# Who collected it, never their account.
_COLLECTOR_KIND = {
    Method.DESK: "shelter_staff",
    Method.PHONE_SURVEY: "shelter_staff",
    Method.RESIDENT_PAGE: "pii_principal",
    Method.OWN_DEVICE: "pii_principal",
    Method.CITY_OS: "city_os",
}


def decision_label(code: str) -> str:
    """A decision code (given, refused, not_asked) in words: the receipt's and the pages' one wording."""
    if code == NOT_ASKED:
        return _("Not asked")
    return str(Decision(code).label)


def controller() -> dict:
    return {
        "name": settings.CONSENT_CONTROLLER_NAME,
        "contact": settings.CONSENT_CONTROLLER_CONTACT,
        "address": settings.CONSENT_CONTROLLER_ADDRESS,
        "privacy_policy_url": settings.CONSENT_PRIVACY_POLICY_URL,
        "on_behalf": False,
    }


def consent_receipt(record: ConsentRecord, *, withdraw_url: str) -> dict:
    """The receipt of one consent record. `withdraw_url`: the absolute URL of /me/consents/."""
    categories = list(dict.fromkeys(change["category"] for change in record.changes))
    recipients = list(dict.fromkeys(change["recipient"] for change in record.changes))
    contexts = list(dict.fromkeys(change["context"] for change in record.changes))
    at = timezone.localtime(record.at)
    return {
        "version": RECEIPT_VERSION,
        "standards": STANDARDS,
        "receipt_id": str(record.receipt_id),
        "timestamp": at.isoformat(),
        "timestamp_epoch": int(record.at.timestamp()),
        "language": get_language(),
        "jurisdiction": "JP",
        "collection_method": {"code": record.method, "description": str(Method(record.method).label)},
        "collected_by": _COLLECTOR_KIND.get(record.method, "unknown"),
        "pii_principal_id": record.subject,
        "pii_controllers": [controller()],
        "policy_url": settings.CONSENT_PRIVACY_POLICY_URL,
        "purposes": [
            {
                "pii_category": category,
                "purpose": str(CATEGORY_PURPOSES[Category(category)]),
                "consent_type": "EXPLICIT",
                "primary_purpose": True,
                "termination": _("Until you withdraw it, or until the city anonymises your data."),
            }
            for category in categories
        ],
        "pii_categories": [
            {"code": category, "name": str(Category(category).label), "sensitive": category in SENSITIVE_CATEGORIES}
            for category in categories
        ],
        "sensitive": any(category in SENSITIVE_CATEGORIES for category in categories),
        "spi_categories": [category for category in categories if category in SENSITIVE_CATEGORIES],
        "recipients": [
            {
                "code": recipient,
                "name": str(Recipient(recipient).label),
                "description": str(RECIPIENT_DETAILS[Recipient(recipient)]),
                "third_party": recipient in THIRD_PARTY_RECIPIENTS,
            }
            for recipient in recipients
        ],
        "contexts": [{"code": context, "name": str(Context(context).label)} for context in contexts],
        "decisions": [
            {
                "pii_category": change["category"],
                "recipient": change["recipient"],
                "context": change["context"],
                "decision": change["decision"],
                "decision_label": decision_label(change["decision"]),
                "previous_decision": change["was"],
                "previous_decision_label": decision_label(change["was"]),
            }
            for change in record.changes
        ],
        "timing_preference": (
            {"code": record.timing, "description": str(Timing(record.timing).label)} if record.timing else None
        ),
        "withdrawal": {
            "how": _(
                "You can change or withdraw any consent at any time on your page, or by asking the city. "
                "A withdrawal applies from then on."
            ),
            "url": withdraw_url,
            "contact": settings.CONSENT_CONTROLLER_CONTACT,
        },
    }
