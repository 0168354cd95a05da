"""A check-in under faults (issue 10): a committed write is answered as a success, whatever an
after-commit hook does; a wait the database bounds is answered 503 in the one error shape."""

import threading

import psycopg
import pytest
from django.db import DatabaseError, connection

from shelters import selectors
from shelters.models import Stay
from tests.factories import EvacueeFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_committed_check_in_is_answered_201_even_when_its_after_commit_event_fails(
    api_as, hq, shelter_a, monkeypatch
):
    person = EvacueeFactory()

    def database_gone_after_commit(**_kwargs):
        raise DatabaseError("server closed the connection unexpectedly")

    # The event sent after commit reads the shelters' committed state; that read fails here.
    monkeypatch.setattr(selectors, "shelter_states", database_gone_after_commit)
    response = api_as(hq).post("/api/check-ins/", {"shelter": shelter_a.pk, "evacuees": [person.pk]}, format="json")

    assert response.status_code == 201, response.content
    assert Stay.objects.filter(evacuee=person, shelter=shelter_a).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's lock_timeout")
def test_a_check_in_that_waits_too_long_for_the_shelter_is_answered_503_busy(api_as, hq, shelter_a):
    person = EvacueeFactory()
    client = api_as(hq)
    locked, release = threading.Event(), threading.Event()

    def hold_the_shelter():
        settings = connection.settings_dict
        dsn = (
            f"host={settings['HOST']} port={settings['PORT'] or 5432} dbname={settings['NAME']} user={settings['USER']}"
        )
        with psycopg.connect(dsn, password=settings["PASSWORD"] or None) as other, other.transaction():
            other.execute("SELECT id FROM shelters_shelter WHERE id = %s FOR UPDATE", [shelter_a.pk])
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_shelter)
    holder.start()
    assert locked.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")  # the test's connection; settings default to 5 s
    try:
        response = client.post("/api/check-ins/", {"shelter": shelter_a.pk, "evacuees": [person.pk]}, format="json")
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"error": {"code": "busy", "message": response.json()["error"]["message"], "fields": {}}}
    assert not Stay.objects.filter(evacuee=person).exists()
