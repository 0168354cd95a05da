"""`/healthz` (config/health.py): anyone may ask whether this process can serve; it names nothing."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_anonymous_client_learns_the_database_answers_and_nothing_else(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["status"] in {"ok", "degraded"}  # degraded: Redis is out, the site still serves
    assert set(body) == {"status", "database", "redis", "events", "tasks", "cache", "seconds"}
    assert set(body["events"]) == {"state", "dropped", "outages", "open_for_seconds"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_answers_get_only(client):
    assert client.post("/healthz").status_code == 405
