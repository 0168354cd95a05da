"""The "answer on your own phone" link: a short-lived signed token naming only the ledger's subject.

The desk shows it as a QR code; the resident opens it on their phone and answers the same questions
there (`consent.views.ask_own_device`). The token carries no name and no data, only the subject key
(`person:<id>` or `cityos:<id>`), signed with the site's secret and valid for
`CONSENT_ASK_TOKEN_MAX_AGE_SECONDS` (30 minutes by default): long enough to answer at the desk or
in the queue, short enough that a photographed code is soon worthless.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from common.errors import ApplicationError
from consent.models import SUBJECT_LENGTH

_SALT = "consent.asking.own-device"
TOKEN_MAX_LENGTH = 300
DEFAULT_MAX_AGE_SECONDS = 30 * 60


def max_age_seconds() -> int:
    return int(getattr(settings, "CONSENT_ASK_TOKEN_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS))


def own_device_token(subject: str) -> str:
    return signing.dumps({"s": subject}, salt=_SALT, compress=True)


def subject_from_token(token: str) -> str:
    """The subject a token names; ApplicationError (field "token") when expired, altered or not a token."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise ApplicationError(_("This code could not be read."), code="invalid_token", field="token")
    try:
        payload = signing.loads(token, salt=_SALT, max_age=max_age_seconds())
    except signing.SignatureExpired as error:
        raise ApplicationError(_("This code has expired."), code="expired_token", field="token") from error
    except signing.BadSignature as error:
        raise ApplicationError(_("This code could not be read."), code="invalid_token", field="token") from error
    subject = payload.get("s") if isinstance(payload, dict) else None
    if not isinstance(subject, str) or not subject or len(subject) > SUBJECT_LENGTH:
        raise ApplicationError(_("This code could not be read."), code="invalid_token", field="token")
    return subject


def own_device_path(subject: str) -> str:
    return reverse("consent:ask_own_device", args=[own_device_token(subject)])
