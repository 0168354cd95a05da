"""The profile `make run` serves: one machine on a shelter's or the city hall's LAN.

Safe to reach from the network: debug pages off (a developer asks for them with the dev profile,
`make dev`), and a secret key of this installation's own, generated into var/ on first start
(mode 0600) and kept, so sessions and printed survey posters survive a restart. Plain HTTP: a LAN
has no certificate, so no HTTPS redirect or secure-only cookies (production.py has those).
Static files are served by whitenoise from var/staticfiles, as in every profile.
"""

from common.instance import instance_secret
from config.env import env_str
from config.settings.base import *
from config.settings.base import VAR_DIR

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY") or instance_secret(VAR_DIR / "secret_key")
