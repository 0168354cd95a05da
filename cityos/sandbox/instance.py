"""Where the sandbox keeps its state, and the secrets it shares with the site; imports no Django.

Both sides read these files: the sandbox registers the site as a client with this id and secret and
accepts this API token; the site's settings (config/settings/base.py) read the same files when no
real City OS is configured. Whichever process comes first generates a file (common.instance).
"""

import json
import os
import secrets
from pathlib import Path

from common.instance import instance_secret

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RESIDENTS_FILE = BASE_DIR / "data" / "cityos-sandbox" / "residents.json"


def sandbox_dir(var_dir: Path) -> Path:
    """CITYOS_SANDBOX_DIR, else var/cityos-sandbox/."""
    return Path(os.environ.get("CITYOS_SANDBOX_DIR") or Path(var_dir) / "cityos-sandbox")


def sandbox_port(site_port: int) -> int:
    """CITYOS_SANDBOX_PORT, else the port after the site's."""
    return int(os.environ.get("CITYOS_SANDBOX_PORT") or site_port + 1)


def client_id(directory: Path) -> str:
    return instance_secret(directory / "client_id", generate=lambda: "shelter-ops-" + secrets.token_hex(8))


def client_secret(directory: Path) -> str:
    return instance_secret(directory / "client_secret")


def api_token(directory: Path) -> str:
    return instance_secret(directory / "api_token")


def sample_residents() -> list[dict]:
    return json.loads(RESIDENTS_FILE.read_text())["residents"]


def sample_areas() -> list[dict]:
    return json.loads(RESIDENTS_FILE.read_text())["areas"]


def sample_logins(directory: Path) -> dict[str, str]:
    """Each sample resident's login and password: DEMO_PASSWORD for all when set (tests, a training
    session), else generated for this installation on the first start and kept (mode 0600), as the
    demo accounts' are (shelters/demo.py)."""
    logins = [resident["login"] for resident in sample_residents()]
    if os.environ.get("DEMO_PASSWORD"):
        return dict.fromkeys(logins, os.environ["DEMO_PASSWORD"])
    kept = json.loads(
        instance_secret(
            directory / "sample-logins.json",
            generate=lambda: json.dumps({login: secrets.token_urlsafe(9) for login in logins}),
        )
    )
    return {login: kept.get(login) or "" for login in logins}
