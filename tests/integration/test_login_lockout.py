"""Guessing spread over two servers is counted once: the lockout and HQ's unlock hold on both.

Each server is laid out as `make run` lays it out, behind its proxy (config/launcher.py), and every
guess names a fresh address in X-Forwarded-For: the proxy replaces the header with the address it
saw, so the guesser is counted at his own address (127.0.0.1 here), never at one he names.
"""

import re
import secrets

import httpx
import pytest

from tests.system import DEMO_PASSWORD, Session

pytestmark = pytest.mark.integration

LOGIN_FAILURE_LIMIT = 5  # settings.AXES_FAILURE_LIMIT
FAILED_TOKEN_LIMIT = 20  # settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["failed_token"]


def _log_in(server: str, username: str, password: str) -> int:
    spoofed = {"X-Forwarded-For": f"203.0.113.{secrets.randbelow(250) + 1}"}
    with httpx.Client(base_url=server, timeout=10, headers=spoofed) as client:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/login/").text).group(1)
        answer = client.post("/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": token})
        return answer.status_code


def test_guessing_on_two_servers_locks_the_account_on_both_until_hq_lifts_it(system):
    servers = [system.start_site(), system.start_site()]

    guesses = [_log_in(servers[n % 2], "manager", f"guess-{n}") for n in range(LOGIN_FAILURE_LIMIT)]
    # The form again with its error, then the lockout page for the failure that locks.
    assert guesses == [200] * (LOGIN_FAILURE_LIMIT - 1) + [429]
    assert [_log_in(server, "manager", DEMO_PASSWORD) for server in servers] == [429, 429]

    hq = Session(servers[0], "hq")
    listing = hq.client.get("/security/lockouts/")
    assert "manager" in listing.text and "127.0.0.1" in listing.text
    assert "203.0.113." not in listing.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', listing.text).group(1)
    lifted = hq.client.post(
        "/security/lockouts/clear/",
        data={"ip_address": "127.0.0.1", "username": "manager", "csrfmiddlewaretoken": token},
    )
    assert lifted.status_code == 302

    assert _log_in(servers[1], "manager", DEMO_PASSWORD) == 302


def test_token_guessing_on_two_servers_is_throttled_on_both(system):
    servers = [system.start_site(), system.start_site()]

    def guess(server: str, token: str) -> httpx.Response:
        headers = {"Authorization": f"Token {token}", "X-Forwarded-For": f"203.0.113.{secrets.randbelow(250) + 1}"}
        return httpx.get(f"{server}/api/shelters/", headers=headers, timeout=10)

    answers = [guess(servers[n % 2], f"{n:040x}").status_code for n in range(FAILED_TOKEN_LIMIT)]
    assert set(answers) <= {401, 403}

    for server in servers:
        refused = guess(server, "f" * 40)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "throttled"
