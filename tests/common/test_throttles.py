"""The API throttles guessing at tokens and heavy use, answering 429 in the one error shape."""

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.models import AuditEntry
from common.throttles import AnonRateThrottle, UserRateThrottle

FAILED_TOKEN_LIMIT = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["failed_token"].split("/")[0])


def _client(token: str, address: str = "198.51.100.4") -> APIClient:
    return APIClient(REMOTE_ADDR=address, HTTP_AUTHORIZATION=f"Token {token}")


def _guess(times: int, address: str = "198.51.100.4") -> list[int]:
    return [_client(f"{number:040x}", address).get("/api/shelters/").status_code for number in range(times)]


def test_guessing_tokens_from_one_address_is_throttled_with_429_in_the_one_shape(db):
    assert set(_guess(FAILED_TOKEN_LIMIT)) <= {401, 403}  # 403: session authentication comes first

    response = _client("0" * 40).get("/api/shelters/")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert response.json()["error"]["fields"] == {}
    assert int(response["Retry-After"]) > 0


def test_a_right_token_from_a_throttled_address_is_refused_too(hq):
    token = Token.objects.create(user=hq)
    _guess(FAILED_TOKEN_LIMIT)

    assert _client(token.key).get("/api/shelters/").status_code == 429
    assert _client(token.key, address="198.51.100.5").get("/api/shelters/").status_code == 200


def test_token_guessing_writes_one_audit_entry(db):
    _guess(FAILED_TOKEN_LIMIT + 3)

    entry = AuditEntry.objects.get(action="api_token.throttled")
    assert entry.object_id == "198.51.100.4"


def test_a_forwarded_for_header_does_not_name_a_fresh_address(db):
    for number in range(FAILED_TOKEN_LIMIT + 1):
        client = _client(f"{number:040x}")
        response = client.get("/api/shelters/", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")

    assert response.status_code == 429


@pytest.mark.parametrize(
    "signed_in, path, throttle", [(False, "/api/schema/", AnonRateThrottle), (True, "/api/shelters/", UserRateThrottle)]
)
def test_api_requests_beyond_the_rate_answer_429(hq, monkeypatch, signed_in, path, throttle):
    monkeypatch.setattr(throttle, "THROTTLE_RATES", {throttle.scope: "2/min"})
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    if signed_in:
        client.force_login(hq)

    answers = [client.get(path).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
