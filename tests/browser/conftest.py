"""Playwright driving Debian's Chromium (never a downloaded browser), headless."""

import os

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests make
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    # Per test, not per session: Playwright's sync API keeps an event loop running in this
    # thread while it is started, which would break the async tests that share the worker.
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `make test` installs it with apt-get.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def log_in(live_server):
    def log_in(page, username, password="pass-for-tests"):
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")
        page.wait_for_load_state()

    return log_in


@pytest.fixture
def city_os_for_live_server(live_server, settings, tmp_path):
    """A City OS sandbox process whose client is this test's live server, with the site's settings
    pointed at it as `make run` points them (the logout redirect to it included)."""
    from cityos import client
    from tests.system import CityOSSandbox

    sandbox = CityOSSandbox(tmp_path / "cityos-sandbox", site_origins=(live_server.url,))
    for name, value in sandbox.settings().items():
        setattr(settings, name, value)
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**policy["DIRECTIVES"], "form-action": ["'self'", sandbox.url]}}
    client.forget_cached()
    yield sandbox
    sandbox.stop()
    client.forget_cached()
