"""The profile `make run` and a developer's machine use: works with nothing configured."""

from config.env import env_bool, env_str
from config.settings.base import *

DEBUG = env_bool("DEBUG", True)
# A fixed key is fine for a laptop and the demo; production.py refuses to start without one.
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
REALTIME_CHECK_EVENTS = env_bool("REALTIME_CHECK_EVENTS", DEBUG)
