"""The test profile: the same wiring as dev, faster password hashing."""

from config.settings.dev import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests use the in-memory channel layer; integration tests start real daphne and Redis.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Each test process counts its own rate limits; tests clear the cache between tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Every event the suite sends is checked against the catalogue (tests/conftest.py fails the test).
REALTIME_CHECK_EVENTS = True
# No heartbeat frames among the frames a unit test waits for (tests/realtime/test_heartbeat.py sets its own).
REALTIME_HEARTBEAT_SECONDS = 3600
# The demo accounts' one password in tests; tests/shelters/test_demo_data.py unsets it to check the
# passwords generated per installation.
DEMO_PASSWORD = "test-demo-password"
