"""Sign-in with the City OS: the whole authorization-code flow with PKCE, our site (Django's test
client) on one side and the real sandbox process on the other, and every way it can fail."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client

from cityos.auth import CityOSBackend
from common.audit import AuditEntry
from common.roles import Role, role_of
from shelters.models import User
from tests.factories import UserFactory
from tests.system import DEMO_PASSWORD

YAMADA = "AIZU-SANDBOX-0001"


def _sandbox_signs_in(sandbox, authorize_url: str, login: str) -> str:
    """The resident at the sandbox: logs in there and is sent back with a code; our callback URL."""
    with httpx.Client(base_url=sandbox.url) as browser:
        browser.get("/")
        answer = browser.post(
            "/",
            data={
                "username": login,
                "password": DEMO_PASSWORD,
                "csrfmiddlewaretoken": browser.cookies["cityos_sandbox_csrftoken"],
                "next": authorize_url.removeprefix(sandbox.url),
            },
        )
        assert answer.status_code == 302, answer.text
        answer = browser.get(answer.headers["location"])
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


def _sign_in(site: Client, sandbox, login: str = "sample-yamada-taro"):
    start = site.get("/oidc/authenticate/")
    assert start.status_code == 302
    authorize_url = start["Location"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(f"{sandbox.issuer}/authorize/")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    callback = _sandbox_signs_in(sandbox, authorize_url, login)
    assert callback.startswith("http://testserver/oidc/callback/?")
    return site.get(callback.removeprefix("http://testserver"))


@pytest.mark.django_db
def test_a_resident_signing_in_the_first_time_becomes_a_user_with_no_role(city_os):
    site = Client()
    answer = _sign_in(site, city_os)

    assert answer.status_code == 302 and answer["Location"] == "/me/"
    user = User.objects.get(city_os_id=YAMADA)
    assert user.username == f"cityos-{YAMADA}"
    assert role_of(user) is None and not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    assert AuditEntry.objects.filter(action="user.resident_created", object_id=str(user.pk)).exists()
    assert site.get("/me/").status_code == 200
    # Every staff page refuses a resident.
    assert site.get("/shelters/").status_code == 403


@pytest.mark.django_db
def test_deactivating_someone_signed_in_through_the_city_os_signs_them_out(city_os):
    site = Client()
    _sign_in(site, city_os)
    assert site.get("/me/").status_code == 200

    User.objects.filter(city_os_id=YAMADA).update(is_active=False)

    answer = site.get("/me/")
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")


@pytest.mark.django_db
def test_a_resident_signing_in_again_is_the_same_user(city_os):
    _sign_in(Client(), city_os)
    _sign_in(Client(), city_os)

    assert User.objects.filter(city_os_id=YAMADA).count() == 1


@pytest.mark.django_db
def test_staff_who_linked_their_city_os_id_keep_their_role(city_os, shelter_a):
    manager = UserFactory(username="manager-linked", role=Role.MANAGER, city_os_id=YAMADA, shelters=[shelter_a])
    site = Client()
    answer = _sign_in(site, city_os)

    assert answer.status_code == 302 and answer["Location"] != "/me/"
    assert int(site.session["_auth_user_id"]) == manager.pk
    manager.refresh_from_db()
    assert manager.role == Role.MANAGER and list(manager.managed_shelters.all()) == [shelter_a]
    assert User.objects.filter(city_os_id=YAMADA).count() == 1


@pytest.mark.django_db
def test_an_inactive_user_cannot_sign_in_with_the_city_os(city_os):
    UserFactory(username="gone", role=Role.HQ, city_os_id=YAMADA, is_active=False)
    site = Client()
    answer = _sign_in(site, city_os)

    assert answer.status_code == 400
    assert "_auth_user_id" not in site.session


@pytest.mark.django_db
def test_claims_cannot_grant_a_role(city_os):
    backend = CityOSBackend()
    claims = {"sub": "AIZU-SANDBOX-0006", "role": "hq", "is_superuser": True, "is_staff": True, "groups": ["hq"]}
    user = backend.get_or_create_user("access", "id-token", claims)

    assert role_of(user) is None and not user.is_superuser and not user.is_staff
    staff = UserFactory(role=Role.OFFICIAL, city_os_id="AIZU-SANDBOX-0002")
    again = backend.get_or_create_user("access", "id-token", {**claims, "sub": "AIZU-SANDBOX-0002"})
    assert again == staff and role_of(again) == Role.OFFICIAL


@pytest.mark.django_db
def test_a_subject_that_is_not_a_common_id_is_refused(city_os):
    from django.core.exceptions import SuspiciousOperation

    with pytest.raises(SuspiciousOperation):
        CityOSBackend().get_or_create_user("access", "id-token", {"sub": "../../etc/passwd" * 10})


@pytest.mark.django_db
def test_a_password_login_never_reaches_the_city_os(settings, client):
    settings.CITYOS_ISSUER = "http://127.0.0.1:1/o"  # nothing listens: a call would fail the login
    from cityos import client as city_os_client

    city_os_client.forget_cached()
    UserFactory(username="hq-person", role=Role.HQ)
    answer = client.post("/login/", {"username": "hq-person", "password": "pass-for-tests"})

    assert answer.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["?code=abc&state=forged", "?state=forged", "?code=abc", "", "?error=access_denied&state=forged"],
)
def test_a_callback_with_a_forged_state_or_no_code_gets_the_error_page(city_os, query):
    site = Client()
    site.get("/oidc/authenticate/")  # a sign-in under way: its state is in the session
    answer = site.get(f"/oidc/callback/{query}")

    assert answer.status_code == 400
    assert "City OS" in answer.content.decode()
    assert "_auth_user_id" not in site.session


@pytest.mark.django_db
def test_a_callback_with_a_state_of_no_sign_in_gets_the_error_page(city_os):
    answer = Client().get("/oidc/callback/?code=abc&state=forged")

    assert answer.status_code == 400


@pytest.mark.django_db
def test_a_code_the_city_os_does_not_know_gets_the_error_page(city_os):
    site = Client()
    start = site.get("/oidc/authenticate/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    answer = site.get(f"/oidc/callback/?code=not-a-code&state={state}")

    assert answer.status_code in (400, 503)
    assert "_auth_user_id" not in site.session


@pytest.mark.django_db
def test_signing_in_while_the_city_os_is_out_of_reach_says_so(settings):
    from cityos import client as city_os_client
    from tests.system import free_port

    settings.CITYOS_ISSUER = f"http://127.0.0.1:{free_port()}/o"
    city_os_client.forget_cached()
    answer = Client().get("/oidc/authenticate/")

    assert answer.status_code == 503
    assert answer["Retry-After"]
    city_os_client.forget_cached()


@pytest.mark.django_db
def test_logging_out_after_a_city_os_sign_in_ends_the_city_os_session_too(city_os):
    site = Client()
    _sign_in(site, city_os)
    answer = site.post("/logout/")

    assert answer.status_code == 302
    assert answer["Location"].startswith(f"{city_os.issuer}/logout/?")
    assert "_auth_user_id" not in site.session


def test_the_login_page_offers_city_os_sign_in(client):
    answer = client.get("/login/")

    assert "City OS でサインイン" in answer.content.decode()
    assert 'href="/oidc/authenticate/"' in answer.content.decode()
