"""The City OS sandbox as a real process (cityos/sandbox/), once per test session, and the site's
settings pointing at it."""

import pytest

from cityos import client
from tests.system import CityOSSandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    running = CityOSSandbox(tmp_path_factory.mktemp("cityos-sandbox"), site_origins=("http://testserver",))
    yield running
    running.stop()


@pytest.fixture
def city_os(settings, sandbox):
    """The site's CITYOS_* settings point at the sandbox; nothing cached from another issuer."""
    for name, value in sandbox.settings().items():
        setattr(settings, name, value)
    client.forget_cached()
    yield sandbox
    client.forget_cached()
