"""Sign-in with the City OS: the authentication backend (mozilla-django-oidc, authorization code
with PKCE). The subject of the ID token is the resident's common ID.

The user is the one whose `city_os_id` is the subject. Staff who linked their account keep the
role and shelters granted here; anyone else becomes a resident: a user with no role (so every staff
page refuses them, common.roles) and no usable password. Nothing but the subject is read from the
City OS's claims: a claim can never grant a role.
"""

import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from cityos import client
from common.audit import audit_record

logger = logging.getLogger(__name__)

# A common ID as it may appear in a username (Django's username characters), bounded.
_SUBJECT = re.compile(r"^[A-Za-z0-9@.+_-]{1,64}$")


def resident_username(subject: str) -> str:
    return f"cityos-{subject}"


class CityOSBackend(OIDCAuthenticationBackend):
    """Finds or makes the user for a City OS subject. Endpoints and keys come from cityos.client.

    Django makes a backend for every authenticate() call, the password login's too, so nothing in
    __init__ may reach the City OS: the base class read the endpoints there; this one asks
    discovery only when a sign-in needs them.
    """

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()
        self.OIDC_RP_SIGN_ALGO = "RS256"
        self.OIDC_RP_IDP_SIGN_KEY = None

    def get_user(self, user_id):
        """The session's user, as ModelBackend gives it: none for an account no longer active, so
        deactivating someone who signed in through the City OS signs them out (and closes their
        sockets with 4401) like anyone else. The base class returns the row whatever its flag."""
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return settings.CITYOS_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return settings.CITYOS_CLIENT_SECRET

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return client.discovery()["token_endpoint"]

    def authenticate(self, request, **kwargs):
        # Only the callback's call (a nonce and a code verifier) is a City OS sign-in; a password
        # login's (username, password) is left to the other backends.
        if request is None or set(kwargs) != {"nonce", "code_verifier"}:
            return None
        return super().authenticate(request, **kwargs)

    def get_token(self, payload: dict) -> dict:
        body = client.http_request("POST", self.OIDC_OP_TOKEN_ENDPOINT, what="token", data=payload)
        token = client.json_answer(body, "token")
        if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
            raise client.CityOSUnavailable("The City OS token answer has no ID token.")
        return token

    def verify_token(self, token: str, **kwargs) -> dict:
        """The ID token's claims: signed by the issuer's key, for this client, not expired, this nonce."""
        try:
            claims = client.verify(token, audience=self.OIDC_RP_CLIENT_ID)
        except client.CityOSRefused as error:
            raise SuspiciousOperation(str(error)) from None
        if claims.get("nonce") != kwargs.get("nonce"):
            raise SuspiciousOperation("The ID token's nonce is not this sign-in's.")
        return claims

    def get_userinfo(self, access_token, id_token, payload: dict) -> dict:
        # The subject is all we read, and the verified ID token has it: no userinfo call.
        return payload

    def verify_claims(self, claims: dict) -> bool:
        return isinstance(claims.get("sub"), str) and bool(_SUBJECT.match(claims["sub"]))

    def filter_users_by_claims(self, claims: dict):
        return self.UserModel.objects.filter(city_os_id=claims["sub"])

    def describe_user_by_claims(self, claims: dict) -> str:
        return "a City OS subject"

    def create_user(self, claims: dict):
        """A resident: no role, no usable password, named after the common ID (never after a claim)."""
        subject = claims["sub"]
        try:
            with transaction.atomic():
                user = self.UserModel.objects.create_user(resident_username(subject), city_os_id=subject)
                audit_record(
                    actor=None,
                    action="user.resident_created",
                    object_type="user",
                    object_id=user.pk,
                    details={"via": "city_os"},
                )
        except IntegrityError:
            # Two sign-ins of the same new resident at once: the other one made the user.
            user = self.UserModel.objects.filter(city_os_id=subject).first()
            if user is None:
                raise SuspiciousOperation("The resident's username is taken by another account.") from None
        return user

    def update_user(self, user, claims: dict):
        return user
