"""Sockets are opened only by this site's own pages: the Origin must be the very origin served.

channels' AllowedHostsOriginValidator compares host names only, so a page at
http://127.0.0.1:9999 (any other program on the machine) or http:// on an HTTPS site passed it.
Here the Origin's scheme, host and port must equal those the socket was opened on (its Host
header, and ws → http, wss → https), with the host among ALLOWED_HOSTS; or be one of
settings.WEBSOCKET_ALLOWED_ORIGINS, for a proxy that changes the scheme or port on the way.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

_HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
_DEFAULT_PORT = {"http": 80, "https": 443}


def _normalised(scheme: str, host: str, port: int | None) -> str | None:
    if scheme not in _DEFAULT_PORT or not host:
        return None
    return f"{scheme}://{host.lower()}:{port or _DEFAULT_PORT[scheme]}"


def origin_of_text(origin: str) -> str | None:
    """'http://Host' → 'http://host:80'; None for 'null', another scheme or nonsense."""
    try:
        parts = urlsplit(origin.strip())
        return _normalised(parts.scheme.lower(), parts.hostname or "", parts.port)
    except ValueError:
        return None


def served_origin(scope) -> str | None:
    """The origin this socket was opened on, from its scheme and Host header, if that host is ours."""
    host = _header(scope, b"host")
    domain, port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = _HTTP_SCHEME.get(scope.get("scheme", "ws"))
    return _normalised(scheme, domain, int(port) if port else None) if scheme else None


def _header(scope, name: bytes) -> str:
    for header, value in scope.get("headers", []):
        if header == name:
            return value.decode("latin1")
    return ""


def origin_allowed(scope) -> bool:
    origin = origin_of_text(_header(scope, b"origin"))
    if origin is None:
        return False
    configured = {origin_of_text(text) for text in settings.WEBSOCKET_ALLOWED_ORIGINS}
    return origin == served_origin(scope) or origin in configured


class SameOriginValidator:
    """ASGI middleware: refuses (closes) a socket whose Origin is not this site's."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
