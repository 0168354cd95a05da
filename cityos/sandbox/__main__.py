"""`python -m cityos.sandbox [--host H] [--port P] [--redirect-uri URI ...]`: prepare and serve the
City OS sandbox with daphne, in this one process (config/launcher.py starts it beside the site).

The redirect URIs default to the site's callback at HOST/PORT (and 127.0.0.1, localhost and the
ALLOWED_HOSTS names), the site's own environment variables.
"""

import argparse
import os
import sys

from cityos.sandbox.instance import sandbox_port


def site_origins() -> list[str]:
    site_port = int(os.environ.get("PORT") or 8000)
    hosts = ["127.0.0.1", "localhost"]
    hosts += [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip() and h.strip() not in hosts]
    return [f"http://{host}:{site_port}" for host in hosts if "*" not in host and not host.startswith(".")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cityos.sandbox")
    parser.add_argument("--host", default=os.environ.get("CITYOS_SANDBOX_HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=sandbox_port(int(os.environ.get("PORT") or 8000)))
    parser.add_argument("--site", action="append", help="the site's origin (repeatable); default from HOST/PORT")
    args = parser.parse_args(argv)

    os.environ["DJANGO_SETTINGS_MODULE"] = "cityos.sandbox.settings"
    os.environ["CITYOS_SANDBOX_PORT"] = str(args.port)
    import django

    django.setup()
    from cityos.sandbox.setup import sandbox_prepare

    origins = args.site or site_origins()
    sandbox_prepare(
        redirect_uris=[f"{origin}/oidc/callback/" for origin in origins],
        post_logout_uris=[f"{origin}/login/" for origin in origins],
    )
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(["-b", args.host, "-p", str(args.port), "cityos.sandbox.asgi:application"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
