"""What `make run` serves, tried from outside as an anonymous visitor on the shelter's LAN would:
no debug page, no server addresses, no forgeable poster keys, no published demo password."""

import os
import re

import httpx
import pytest
from django.core import signing

from tests.system import free_port, launched, manage, wait_for

pytestmark = pytest.mark.integration

PUBLISHED_DEMO_PASSWORD = "demo-pass-2026"  # the README's until issue 10
PUBLIC_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production"  # config/settings/dev.py


def csrf_token(page: httpx.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def logs_in(client: httpx.Client, username: str, password: str) -> bool:
    token = csrf_token(client.get("/login/"))
    response = client.post("/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": token})
    return response.status_code == 302


def looks_like_a_debug_page(response: httpx.Response, secrets_shown: list[str]) -> list[str]:
    body = response.text
    signs = ["DATABASE_URL", "REDIS_URL", "Traceback", "Using the URLconf", "DEBUG = True", *secrets_shown]
    return [sign for sign in signs if sign in body]


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """`make run`'s steps with nothing configured: migrate, load the demo, start the launcher."""
    tmp_path = tmp_path_factory.mktemp("make-run")
    port = free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "PORT": str(port),
        "REDIS_URL": "redis://127.0.0.1:9/0",
        # The City OS sandbox beside it, on a port of its own (not PORT + 1, which may be taken).
        "CITYOS_SANDBOX_PORT": str(free_port()),
    }
    for name in (
        "DJANGO_SETTINGS_MODULE",
        "DATABASE_URL",
        "SECRET_KEY",
        "DEBUG",
        "DEMO_PASSWORD",
        "DEMO",
        "CITYOS_ISSUER",
    ):
        env.pop(name, None)
    manage(env, "migrate", "--noinput")
    demo_output = manage(env, "load_demo")
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/login/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    with launched(env, tmp_path / "launcher.log"):
        assert wait_for(answers, timeout=90), (tmp_path / "launcher.log").read_text()
        yield {"url": base_url, "env": env, "demo_output": demo_output, "var": tmp_path}


def test_an_anonymous_visitor_never_gets_a_debug_page_or_the_servers_addresses(make_run):
    env = make_run["env"]
    shelter_key = manage(
        env,
        "shell",
        "-c",
        "from shelters.models import Shelter; from surveys.answering.links import shelter_key; "
        "print(shelter_key(Shelter.objects.order_by('pk').first()))",
    ).split()[-1]
    # What a debug page would print: where the database and the private Redis are.
    secrets_shown = [str(make_run["var"])]
    client = httpx.Client(base_url=make_run["url"], timeout=30)

    not_found = client.get("/no-such-page/")
    form = client.get(f"/s/{shelter_key}/")
    fields = set(re.findall(r'name="([^"]+)"', form.text)) - {"csrfmiddlewaretoken"}
    nul_post = client.post(
        f"/s/{shelter_key}/",
        data={**dict.fromkeys(fields, "a\x00b"), "token": "\x00", "csrfmiddlewaretoken": csrf_token(form)},
    )
    nul_query = client.get(f"/s/{shelter_key}/", params={"t": "\x00"})

    assert not_found.status_code == 404
    assert fields, "the survey form has fields to fill"
    for response in (not_found, nul_post, nul_query):
        assert not looks_like_a_debug_page(response, secrets_shown), (response.status_code, response.text[:2000])


def test_poster_keys_signed_with_the_published_dev_secret_open_nothing(make_run):
    forged = signing.Signer(key=PUBLIC_DEV_SECRET, salt="surveys.shelter-poster", sep=".").sign("1")

    response = httpx.get(f"{make_run['url']}/s/{forged}/", timeout=30)

    assert response.status_code == 404


def test_the_demo_logins_use_the_passwords_printed_at_start_not_the_published_one(make_run):
    printed = dict(re.findall(r"^  (hq|manager|official|admin) +(\S+) ", make_run["demo_output"], re.MULTILINE))

    assert set(printed) == {"hq", "manager", "official", "admin"}
    for username, password in printed.items():
        assert logs_in(httpx.Client(base_url=make_run["url"], timeout=30), username, password), username
        assert not logs_in(httpx.Client(base_url=make_run["url"], timeout=30), username, PUBLISHED_DEMO_PASSWORD)
