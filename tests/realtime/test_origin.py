"""Sockets open only from this site's own origin: scheme, host and port, not the host alone."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from config.asgi import application
from tests.dashboard.test_consumers import session_headers

# The socket's consumer reads the session in a thread of its own: it must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SERVED = b"127.0.0.1:8000"


def _connects(user, *, origin: bytes, host: bytes = SERVED, scheme: str = "ws") -> bool:
    signed_in = [header for header in session_headers(user, origin) if header[0] != b"host"]
    headers = [(b"host", host), *signed_in]

    async def body():
        communicator = WebsocketCommunicator(application, "/ws/city/", headers=headers)
        communicator.scope["scheme"] = scheme
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    return async_to_sync(body)()


@pytest.mark.parametrize(
    "origin",
    [
        b"http://127.0.0.1:9999",
        b"https://127.0.0.1:8000",
        b"http://127.0.0.1",
        b"http://evil.example:8000",
        b"null",
        b"",
    ],
)
def test_a_socket_from_another_port_scheme_or_host_is_refused(hq, origin):
    assert _connects(hq, origin=origin) is False


@pytest.mark.parametrize(
    "origin, host, scheme",
    [
        (b"http://127.0.0.1:8000", SERVED, "ws"),
        (b"http://LOCALHOST:8000", b"localhost:8000", "ws"),
        (b"http://localhost", b"localhost:80", "ws"),
        (b"https://localhost", b"localhost", "wss"),
    ],
)
def test_a_socket_from_the_page_it_is_served_to_is_accepted(hq, origin, host, scheme):
    assert _connects(hq, origin=origin, host=host, scheme=scheme) is True


def test_a_host_outside_allowed_hosts_is_refused_even_when_the_origin_matches_it(hq):
    assert _connects(hq, origin=b"http://evil.example:8000", host=b"evil.example:8000") is False


@override_settings(WEBSOCKET_ALLOWED_ORIGINS=["https://shelters.example.jp"])
def test_a_configured_origin_is_accepted_behind_a_proxy_that_changes_scheme_and_port(hq):
    assert _connects(hq, origin=b"https://shelters.example.jp") is True
    assert _connects(hq, origin=b"http://shelters.example.jp") is False
