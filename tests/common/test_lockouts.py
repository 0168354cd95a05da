"""Password guessing on every login path is locked out, audited, and HQ can lift it."""

import pytest
from django.conf import settings
from django.test import Client

from common.models import AuditEntry
from shelters.models import Role
from tests.factories import UserFactory

PASSWORD = "pass-for-tests"
LOGIN_PATHS = ["/login/", "/admin/login/"]


def _client(address: str = "10.0.0.1") -> Client:
    return Client(REMOTE_ADDR=address)


def _fail(client: Client, path: str, username: str, times: int) -> None:
    for _ in range(times):
        response = client.post(path, {"username": username, "password": "wrong-guess"})
        assert response.status_code in (200, 429)


def _log_in(client: Client, path: str, username: str):
    return client.post(path, {"username": username, "password": PASSWORD})


@pytest.fixture
def admin_user(db):
    return UserFactory(username="sysadmin", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_repeated_failures_lock_the_account_even_with_the_right_password(admin_user, path):
    client = _client()
    _fail(client, path, admin_user.username, settings.AXES_FAILURE_LIMIT)

    response = _log_in(client, path, admin_user.username)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "registration/locked_out.html" in [template.name for template in response.templates]
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_a_lockout_writes_one_audit_entry(admin_user, path):
    _fail(_client(), path, admin_user.username, settings.AXES_FAILURE_LIMIT + 3)

    entries = AuditEntry.objects.filter(action="login.lockout")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.details["scope"] == "account"
    assert entry.details["username"] == admin_user.username
    assert entry.details["ip_address"] == "10.0.0.1"
    assert entry.details["path"] == path


def test_fewer_failures_than_the_limit_still_let_the_right_password_in(hq):
    client = _client()
    _fail(client, "/login/", hq.username, settings.AXES_FAILURE_LIMIT - 1)

    assert _log_in(client, "/login/", hq.username).status_code == 302


def test_guessing_a_managers_name_from_elsewhere_does_not_lock_her_out(manager_a):
    _fail(_client("203.0.113.9"), "/login/", manager_a.username, settings.AXES_FAILURE_LIMIT * 2)

    response = _log_in(_client("10.0.0.7"), "/login/", manager_a.username)

    assert response.status_code == 302


def test_one_address_failing_for_many_usernames_is_locked_for_every_username(hq, manager_a):
    attacker = _client("203.0.113.9")
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        _fail(attacker, "/login/", f"guess{number}", 1)

    assert _log_in(attacker, "/login/", hq.username).status_code == 429
    assert AuditEntry.objects.filter(action="login.lockout", details__scope="address").count() == 1
    assert _log_in(_client("10.0.0.7"), "/login/", hq.username).status_code == 302


def test_a_successful_login_forgets_only_its_own_failures(hq, manager_a):
    shared = _client("10.0.0.1")
    _fail(shared, "/login/", manager_a.username, settings.AXES_FAILURE_LIMIT - 1)
    _fail(shared, "/login/", hq.username, 1)
    assert _log_in(_client("10.0.0.1"), "/login/", hq.username).status_code == 302

    _fail(shared, "/login/", manager_a.username, 1)

    assert _log_in(_client("10.0.0.1"), "/login/", manager_a.username).status_code == 429


def test_hq_sees_the_lockout_and_lifts_it(hq, manager_a):
    _fail(_client(), "/login/", manager_a.username, settings.AXES_FAILURE_LIMIT)
    hq_client = Client()
    hq_client.force_login(hq)

    page = hq_client.get("/security/lockouts/")
    assert page.status_code == 200
    assert manager_a.username in page.content.decode()
    assert "10.0.0.1" in page.content.decode()

    response = hq_client.post("/security/lockouts/clear/", {"ip_address": "10.0.0.1", "username": manager_a.username})

    assert response.status_code == 302
    assert _log_in(_client(), "/login/", manager_a.username).status_code == 302
    unlock = AuditEntry.objects.get(action="login.unlock")
    assert unlock.actor == hq
    assert unlock.details["username"] == manager_a.username


def test_hq_lifts_an_address_lockout(hq):
    attacker = _client("203.0.113.9")
    for number in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        _fail(attacker, "/login/", f"guess{number}", 1)
    hq_client = Client()
    hq_client.force_login(hq)

    hq_client.post("/security/lockouts/clear/", {"ip_address": "203.0.113.9"})

    assert _log_in(attacker, "/login/", hq.username).status_code == 302


@pytest.mark.parametrize("persona", ["manager_a", "official", None])
def test_nobody_but_hq_may_see_or_lift_lockouts(request, persona, hq):
    _fail(_client(), "/login/", hq.username, settings.AXES_FAILURE_LIMIT)
    client = Client()
    if persona:
        client.force_login(request.getfixturevalue(persona))

    listing = client.get("/security/lockouts/")
    lifting = client.post("/security/lockouts/clear/", {"ip_address": "10.0.0.1", "username": hq.username})

    expected = 403 if persona else 302
    assert listing.status_code == expected
    assert lifting.status_code == expected
    assert _log_in(_client(), "/login/", hq.username).status_code == 429
    assert not AuditEntry.objects.filter(action="login.unlock").exists()


def test_an_unlock_without_a_valid_address_is_refused_by_name(hq):
    client = Client()
    client.force_login(hq)

    response = client.post("/security/lockouts/clear/", {"ip_address": "not an address"}, follow=True)

    assert "ip_address" in response.content.decode()
    assert not AuditEntry.objects.filter(action="login.unlock").exists()


def test_the_navigation_offers_the_lockouts_to_hq_only(hq, manager_a):
    for user, shown in ((hq, True), (manager_a, False)):
        client = Client()
        client.force_login(user)
        assert ('href="/security/lockouts/"' in client.get("/shelters/").content.decode()) is shown


def test_a_login_without_a_request_is_not_counted_and_still_works(hq):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        assert not Client().login(username=hq.username, password="wrong-guess")

    assert Client().login(username=hq.username, password=PASSWORD)
