"""The QR payload a resident shows at a shelter's desk: a compact JWS (RS256) with the resident's
common ID, for audience "shelter", signed with the key the sandbox's JWKS publishes."""

import json
import time

from django.conf import settings
from jwcrypto import jwk, jws
from oauth2_provider.settings import oauth2_settings


def signing_key() -> jwk.JWK:
    return jwk.JWK.from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY.encode())


def qr_payload(city_os_id: str, *, lifetime_seconds: int | None = None, now: float | None = None) -> str:
    key = signing_key()
    now = time.time() if now is None else now
    lifetime = settings.QR_LIFETIME_SECONDS if lifetime_seconds is None else lifetime_seconds
    claims = {
        "iss": settings.ISSUER,
        "sub": city_os_id,
        "aud": "shelter",
        "iat": int(now),
        "exp": int(now + lifetime),
    }
    token = jws.JWS(json.dumps(claims, separators=(",", ":")).encode())
    token.add_signature(key, alg="RS256", protected=json.dumps({"alg": "RS256", "kid": key.thumbprint()}))
    return token.serialize(compact=True)
