"""cityos/client.py against the real City OS sandbox process: every call, and how each fails."""

import base64
import contextlib
import http.server
import json
import threading
import time
from datetime import date

import httpx
import pytest
from jwcrypto import jwk

from cityos import client
from tests.system import DEMO_PASSWORD, free_port

YAMADA, SPOUSE, CHILD, ELDERLY, REFUSED, LOCATION = (f"AIZU-SANDBOX-000{n}" for n in range(1, 7))


def test_attributes_come_with_the_family_sharing_an_address(city_os):
    attributes = client.resident_attributes(YAMADA)

    assert attributes.city_os_id == YAMADA
    assert attributes.name == "山田 太郎"
    assert attributes.birth_date == date(1981, 4, 12)
    assert "追手町" in attributes.address
    assert {(m.city_os_id, m.relationship) for m in attributes.family} == {(SPOUSE, "spouse"), (CHILD, "child")}
    assert all(isinstance(m, client.FamilyMember) for m in attributes.family)


def test_a_resident_who_refused_sharing_with_shelters_is_refused(city_os):
    with pytest.raises(client.CityOSRefused):
        client.resident_attributes(REFUSED)


def test_an_unknown_resident_is_refused(city_os):
    with pytest.raises(client.CityOSRefused):
        client.resident_attributes("AIZU-NOBODY-9999")
    with pytest.raises(client.CityOSRefused):
        client.resident_consents("AIZU-NOBODY-9999")


def test_a_wrong_api_token_is_refused(city_os, settings):
    settings.CITYOS_API_TOKEN = "not-the-token"
    with pytest.raises(client.CityOSRefused):
        client.resident_attributes(YAMADA)


def test_consents_list_each_decision_and_the_timing(city_os):
    opt_in = client.resident_consents(ELDERLY)

    assert opt_in.city_os_id == ELDERLY
    assert opt_in.timing == "every_time"
    assert opt_in.updated_at is not None
    assert opt_in.allows("support", "supporters", "peacetime")
    assert opt_in.allows("location", "hq", "disaster")
    assert not opt_in.allows("survey", "health", "disaster")
    refused = client.resident_consents(REFUSED)
    assert ("basic", "shelter_staff", "disaster", "refused") in {
        (d.category, d.recipient, d.context, d.decision) for d in refused.decisions
    }
    assert not refused.allows("basic", "shelter_staff", "disaster")


def test_location_counts_the_residents_who_share_it_per_area(city_os):
    counts = {area.code: area.count for area in client.location_counts()}

    # The elderly resident (Higashiyama) and the one with location sharing on (station area).
    assert counts == {"072021-01": 0, "072021-02": 1, "072021-03": 1}


def test_a_qr_code_the_city_os_signed_gives_its_subject(city_os):
    assert client.qr_subject(city_os.qr_code(YAMADA)) == YAMADA


def test_the_qr_code_the_sandbox_shows_a_resident_is_accepted(city_os):
    with httpx.Client(base_url=city_os.url, follow_redirects=True) as browser:
        browser.get("/")
        login = browser.post(
            "/",
            data={
                "username": "sample-yamada-taro",
                "password": DEMO_PASSWORD,
                "csrfmiddlewaretoken": browser.cookies["cityos_sandbox_csrftoken"],
                "next": "/resident/",
            },
        )
        assert login.status_code == 200
        payload = login.text.split('id="qr-payload">', 1)[1].split("<", 1)[0]
    assert client.qr_subject(payload) == YAMADA


def test_an_expired_qr_code_is_refused(city_os):
    expired = city_os.qr_code(YAMADA, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    with pytest.raises(client.CityOSRefused):
        client.qr_subject(expired)


def test_a_tampered_qr_code_is_refused(city_os):
    header, payload, signature = city_os.qr_code(YAMADA).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": REFUSED}).encode()).rstrip(b"=").decode()
    with pytest.raises(client.CityOSRefused):
        client.qr_subject(f"{header}.{forged}.{signature}")


def test_a_qr_code_signed_by_another_key_is_refused(city_os):
    stranger = jwk.JWK.generate(kty="RSA", size=2048)
    with pytest.raises(client.CityOSRefused):
        client.qr_subject(city_os.qr_code(YAMADA, key=stranger))


def test_a_qr_code_for_another_audience_is_refused(city_os):
    with pytest.raises(client.CityOSRefused):
        client.qr_subject(city_os.qr_code(YAMADA, aud="someone-else"))


@pytest.mark.parametrize("payload", ["AIZU-SANDBOX-0001", '{"id": "AIZU-SANDBOX-0001"}', "", "a.b.c", "W-1234"])
def test_a_payload_that_is_not_a_jws_is_none(city_os, payload):
    assert client.qr_subject(payload) is None


class _Misbehaving(http.server.BaseHTTPRequestHandler):
    """A server that answers too slowly or too much: what the client must survive."""

    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(3)
            body = b"{}"
        else:
            body = b'{"padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def misbehaving():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_an_answer_over_a_megabyte_is_refused(city_os, settings, misbehaving):
    settings.CITYOS_LOCATION_URL = f"{misbehaving}/big"
    with pytest.raises(client.CityOSUnavailable):
        client.location_counts()


def test_a_city_os_that_does_not_answer_in_time_is_unavailable(city_os, settings, misbehaving):
    settings.CITYOS_TIMEOUT_SECONDS = 1
    settings.CITYOS_ATTRIBUTES_URL = f"{misbehaving}/slow"
    with pytest.raises(client.CityOSUnavailable):
        client.resident_attributes(YAMADA)


def test_a_city_os_that_is_not_there_is_unavailable(city_os, settings):
    settings.CITYOS_OPTIN_URL = f"http://127.0.0.1:{free_port()}/api/optin"
    with pytest.raises(client.CityOSUnavailable):
        client.resident_consents(YAMADA)
