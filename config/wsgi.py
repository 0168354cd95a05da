"""The WSGI application: pages and the API, on gunicorn's workers (config/launcher.py, docs/operations.md).

Behind a reverse proxy every request comes from the proxy's address. Login lockouts (django-axes)
and the API throttles count per client address (REMOTE_ADDR), so without the client's own address
one visitor guessing passwords would lock out the whole site. With FORWARDED_BY_PROXY=1 (the
launcher sets it: its workers listen on 127.0.0.1 behind its Caddy), REMOTE_ADDR becomes the last
X-Forwarded-For entry, the address the proxy itself saw. Only the proxy can reach such a worker,
and it replaces whatever X-Forwarded-For a client sent, so a client cannot name a fresh address.
"""

import contextlib
import ipaddress
import os

from django.core.wsgi import get_wsgi_application

from config.env import env_bool

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_application = get_wsgi_application()


def client_address_from_proxy(application):
    def with_client_address(environ, start_response):
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        # No header (the launcher's own health checks) or not an address: the proxy's stays.
        with contextlib.suppress(ValueError):
            environ["REMOTE_ADDR"] = str(ipaddress.ip_address(forwarded))
        return application(environ, start_response)

    return with_client_address


application = (
    client_address_from_proxy(django_application) if env_bool("FORWARDED_BY_PROXY", False) else django_application
)
