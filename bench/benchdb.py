"""The benchmarks' own PostgreSQL databases: dropped and made again for every run.

Imported by the scripts next to it (`python bench/<name>.py` puts this folder on the path).
"""

import sys
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
