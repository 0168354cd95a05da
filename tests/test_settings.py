import json
import os
import subprocess
import sys
from pathlib import Path

import dj_database_url
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.env import env_bool, env_int

BASE_DIR = Path(__file__).resolve().parent.parent


def run_django_check(settings_module: str, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, **env}
    environment.pop("SECRET_KEY", None) if "SECRET_KEY" not in env else None
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=environment, capture_output=True, text=True
    )


def settings_of_the_default_profile(var_dir: Path, **env: str) -> dict:
    """The settings manage.py, daphne, Celery and the launcher use when nothing chooses a profile."""
    environment = {**os.environ, "VAR_DIR": str(var_dir)}
    for name in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG"):
        environment.pop(name, None)
    environment.update(env)
    code = "import json; from django.conf import settings as s; print(json.dumps([s.SETTINGS_MODULE, s.DEBUG, s.SECRET_KEY]))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    module, debug, secret = json.loads(result.stdout.strip().splitlines()[-1])
    return {"module": module, "debug": debug, "secret": secret}


def test_the_profile_make_run_serves_has_debug_off_and_a_secret_of_its_own_that_persists(tmp_path):
    first = settings_of_the_default_profile(tmp_path / "installation-1")
    again = settings_of_the_default_profile(tmp_path / "installation-1")
    other = settings_of_the_default_profile(tmp_path / "installation-2")

    assert first["module"] == "config.settings.local"
    assert first["debug"] is False
    assert first["secret"] == again["secret"], "a restart keeps the secret (sessions, printed posters)"
    assert first["secret"] != other["secret"]
    assert len(first["secret"]) >= 50 and "insecure" not in first["secret"]
    assert (tmp_path / "installation-1" / "secret_key").stat().st_mode & 0o777 == 0o600
    # var/ holds the database and the demo logins beside the secret: for this account only.
    assert (tmp_path / "installation-1").stat().st_mode & 0o777 == 0o700


def test_debug_pages_need_the_dev_profile_not_just_debug_in_the_environment(tmp_path):
    assert settings_of_the_default_profile(tmp_path, DEBUG="1")["debug"] is False
    assert settings_of_the_default_profile(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.dev")["debug"] is True


def test_make_run_starts_the_launcher_in_the_default_profile_and_loads_the_demo_only_into_the_embedded_database():
    result = subprocess.run(["make", "-n", "run"], cwd=BASE_DIR, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert "manage.py load_demo --only-embedded" in result.stdout
    assert "-m config.launcher" in result.stdout
    assert "config.settings.dev" not in result.stdout


def test_make_clean_deletes_nothing_unless_confirmed_and_says_what_it_would_delete(tmp_path):
    (tmp_path / "var" / "backups").mkdir(parents=True)
    (tmp_path / "var" / "db.sqlite3").write_text("the shelters' data")
    make_clean = ["make", "-f", str(BASE_DIR / "Makefile"), "clean"]

    refused = subprocess.run(make_clean, cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL)

    assert refused.returncode != 0
    assert "var/db.sqlite3" in refused.stdout and "var/backups" in refused.stdout
    assert "CONFIRM=1" in refused.stdout
    assert (tmp_path / "var" / "db.sqlite3").read_text() == "the shelters' data"

    confirmed = subprocess.run([*make_clean, "CONFIRM=1"], cwd=tmp_path, capture_output=True, text=True)

    assert confirmed.returncode == 0, confirmed.stderr
    assert not (tmp_path / "var").exists()


def test_production_refuses_to_start_without_a_secret_key():
    result = run_django_check("config.settings.production")

    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_postgresql_without_the_pool_starts_with_its_bounded_waits():
    code = "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS']['options'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres", "DB_POOL": "0"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "-c lock_timeout=5000 -c statement_timeout=30000" in result.stdout


def test_production_starts_with_a_secret_key():
    result = run_django_check("config.settings.production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="shelters.example")

    assert result.returncode == 0, result.stderr


def test_a_boolean_setting_that_is_not_a_boolean_is_an_error(monkeypatch):
    monkeypatch.setenv("DEBUG", "ture")

    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("0", False)])
def test_booleans_are_read_from_their_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)

    assert env_bool("SOME_FLAG") is expected


def test_a_number_setting_that_is_not_a_number_is_an_error(monkeypatch):
    monkeypatch.setenv("CONN_MAX_AGE", "sixty")

    with pytest.raises(ImproperlyConfigured, match="CONN_MAX_AGE"):
        env_int("CONN_MAX_AGE", 0)


def test_the_time_zone_is_tokyo_and_japanese_comes_first(settings):
    assert settings.TIME_ZONE == "Asia/Tokyo"
    assert settings.LANGUAGE_CODE == "ja"
    assert [code for code, _ in settings.LANGUAGES] == ["ja", "en"]


@pytest.mark.django_db
def test_pages_are_japanese_even_for_an_english_browser_until_english_is_chosen(client):
    first = client.get("/login/", headers={"accept-language": "en-US,en;q=0.9"})
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    second = client.get("/login/")

    assert first.headers["Content-Language"] == "ja"
    assert second.headers["Content-Language"] == "en"


def test_the_launcher_never_prints_a_redis_password():
    from config.launcher import redacted

    assert redacted("redis://:s3cret@redis.example:6379/0") == "redis://:***@redis.example:6379/0"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_that_database_url_names():
    """CI sets DATABASE_URL to PostgreSQL (.ci/run), and the row-lock and concurrency tests skip
    themselves on anything else: this one fails instead, so a CI run on SQLite cannot look green.
    Skipped only in the documented run with no DATABASE_URL (SQLite)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        pytest.skip("DATABASE_URL is unset: the documented SQLite run")
    named = dj_database_url.parse(url)
    used = connection.settings_dict

    assert used["ENGINE"] == named["ENGINE"]
    if named["ENGINE"] == "django.db.backends.postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            assert cursor.fetchone()[0].startswith("PostgreSQL")
        assert (used["HOST"], used["PORT"]) == (named["HOST"], named["PORT"])
        # pytest-django's test database: test_<name>, with the xdist worker's suffix.
        assert used["NAME"].startswith(f"test_{named['NAME']}")
