"""The benchmarks' own PostgreSQL databases: dropped and made again for every run.

Imported by the scripts next to it (`python bench/<name>.py` puts this folder on the path).
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg


def recreate_database(url: str) -> str:
    """Drop and create the database `url` names; refuses a name without "bench" in it."""
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"Refusing to drop database {name!r}: a benchmark database's name must contain 'bench'.")
    with psycopg.connect(url, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(url: str) -> None:
    """Django in this process on the database `url` names, as the site runs (debug off), migrated."""
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DEBUG": "0",
            "DB_POOL": "0",
            "ALLOWED_HOSTS": "testserver",
        }
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def vacuum_analyze(url: str) -> None:
    """`VACUUM (ANALYZE)` the whole database: no dead rows from an earlier round, fresh statistics.

    PostgreSQL here runs with autovacuum off; dead rows left by counter updates tripled a check-in's
    PostgreSQL cost in one run (issue 12), so every benchmark round starts from a vacuumed table.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
