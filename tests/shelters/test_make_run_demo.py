"""`make run` loads the sample data (`load_demo --only-embedded`) into the embedded SQLite database
only, never into the database DATABASE_URL names unless DEMO=1 asks for it."""

from io import StringIO

import pytest
from django.core.management import call_command

from shelters.models import DataSource, Evacuee, Shelter, User

pytestmark = pytest.mark.django_db


def test_make_run_does_not_load_the_demo_into_a_configured_database(settings):
    settings.DATABASE_URL = "postgres://city-db.example/shelters"
    settings.DEMO = False
    out = StringIO()

    call_command("load_demo", "--only-embedded", stdout=out)

    assert not Shelter.objects.exists() and not User.objects.exists()
    assert "DATABASE_URL" in out.getvalue()


def test_make_run_loads_the_demo_into_a_configured_database_when_asked(settings):
    settings.DATABASE_URL = "postgres://city-db.example/shelters"
    settings.DEMO = True  # DEMO=1 make run

    call_command("load_demo", "--only-embedded", stdout=StringIO())

    assert Shelter.objects.filter(source=DataSource.SAMPLE).exists()
    assert Evacuee.objects.filter(source=DataSource.SAMPLE).exists()


def test_make_run_loads_the_demo_into_the_embedded_database(settings):
    settings.DATABASE_URL = ""
    settings.DEMO = False

    call_command("load_demo", "--only-embedded", stdout=StringIO())

    assert Evacuee.objects.filter(source=DataSource.SAMPLE).exists()
