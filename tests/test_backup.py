"""`manage.py backup` and `manage.py restore`, as IT staff run them: on a site of its own (the embedded
SQLite database, and a scratch PostgreSQL database when DATABASE_URL is PostgreSQL), full of the
sample data's stays and supply requests."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.system import scratch_database

BASE_DIR = Path(__file__).resolve().parent.parent
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

SNAPSHOT = """
import json
from shelters.models import Shelter, Stay
from supply.models import Request
print(json.dumps({
    "stays": list(Stay.objects.order_by("pk").values()),
    "requests": list(Request.objects.order_by("pk").values()),
    "occupancy": list(Shelter.objects.order_by("pk").values_list("pk", "occupancy", "outside_count")),
}, default=str))
"""

# What a night can do to a site: people checked out by mistake, stays and requests deleted.
DAMAGE = """
from django.utils import timezone
from shelters.models import Shelter, Stay
from supply.models import Request
Stay.objects.filter(pk__in=list(Stay.objects.order_by("pk").values_list("pk", flat=True)[:20])).delete()
Stay.objects.filter(checked_out_at__isnull=True).update(checked_out_at=timezone.now(), destination="home")
Shelter.objects.update(occupancy=0, outside_count=0)
Request.objects.all().delete()
"""


class Site:
    """A site of its own, with the sample data: `manage.py` runs with its environment."""

    def __init__(self, workdir: Path, database_url: str = ""):
        self.workdir = workdir
        self.env = {**os.environ, "VAR_DIR": str(workdir), "DEMO_PASSWORD": "backup-test-pass"}
        # The profile the site runs with (config.settings.local), as IT staff's commands get it.
        for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL"):
            self.env.pop(name, None)
        if database_url:
            self.env["DATABASE_URL"] = database_url

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0 or not check, result.stdout + result.stderr
        return result

    def snapshot(self) -> dict:
        return json.loads(self.manage("shell", "-c", SNAPSHOT).stdout.strip().splitlines()[-1])

    def backups(self) -> list[Path]:
        return sorted((self.workdir / "backups").glob("shelter-ops-*"))


BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not ON_POSTGRES, reason="DATABASE_URL is not PostgreSQL")),
]


@pytest.fixture(scope="module", params=BACKENDS)
def sample_site(request, tmp_path_factory):
    """A site with the sample data, made once: each test gets a copy of its database."""
    workdir = tmp_path_factory.mktemp(f"sample-{request.param}")
    url, drop = scratch_database(workdir) if request.param == "postgresql" else ("", lambda: None)
    site = Site(workdir, url)
    try:
        site.manage("migrate", "--noinput")
        site.manage("load_demo")
        yield site
    finally:
        drop()


@pytest.fixture
def site(sample_site, tmp_path):
    template = sample_site.env.get("DATABASE_URL", "")
    if template:
        url, drop = scratch_database(tmp_path, template=template)
    else:  # the embedded default, var/db.sqlite3; its last writer closed, so the file is whole
        shutil.copyfile(sample_site.workdir / "db.sqlite3", tmp_path / "db.sqlite3")
        url, drop = "", lambda: None
    try:
        yield Site(tmp_path, url)
    finally:
        drop()


def test_a_restore_brings_back_every_stay_and_supply_request(site):
    before = site.snapshot()
    assert before["stays"] and before["requests"], "the sample data has stays and supply requests"

    backed_up = site.manage("backup")
    [backup] = site.backups()
    site.manage("shell", "-c", DAMAGE)
    assert site.snapshot() != before
    restored = site.manage("restore", str(backup), "--yes")

    assert str(backup) in backed_up.stdout
    assert backup.stat().st_mode & 0o777 == 0o600, "a backup holds personal data: its owner's only"
    assert site.snapshot() == before
    assert "before" in restored.stdout, "the data as it was before the restore is kept too"
    assert len(site.backups()) == 2


def test_a_restore_asks_first_and_changes_nothing_without_an_answer(site):
    site.manage("backup")
    [backup] = site.backups()
    site.manage("shell", "-c", DAMAGE)
    damaged = site.snapshot()

    refused = site.manage("restore", str(backup), check=False)

    assert refused.returncode != 0
    assert "--yes" in refused.stderr
    assert site.snapshot() == damaged


def test_a_restore_refuses_a_file_that_is_not_a_backup_of_this_kind_of_database(site, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("These are not the shelters' data.")
    before = site.snapshot()

    refused = site.manage("restore", str(other), "--yes", check=False)

    assert refused.returncode != 0
    assert str(other) in refused.stderr
    assert site.snapshot() == before


def test_backups_older_than_the_newest_kept_are_deleted_and_other_files_stay(site):
    suffix = ".sqlite3" if "DATABASE_URL" not in site.env else ".pgdump"
    directory = site.workdir / "backups"
    directory.mkdir(mode=0o700)
    old = [directory / f"shelter-ops-2026010{day}T020000000000Z{suffix}" for day in range(1, 6)]
    for path in old:
        path.write_bytes(b"an old backup")
    unrelated = directory / "notes.txt"
    unrelated.write_text("kept")

    site.manage("backup", "--keep", "3")

    assert site.backups() == [*old[3:], *[p for p in site.backups() if p not in old]]
    assert len(site.backups()) == 3
    assert unrelated.exists()


# The online backup API is SQLite's; pg_dump reads one snapshot by design.
@pytest.mark.parametrize("sample_site", ["sqlite"], indirect=True)
def test_an_sqlite_backup_is_taken_while_the_site_writes_and_holds_what_was_committed(site, tmp_path):
    before = site.snapshot()
    # A writer in the middle of a transaction, as daphne or the worker are at any moment.
    writer = sqlite3.connect(tmp_path / "db.sqlite3", timeout=20)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM supply_request")
    try:
        site.manage("backup", "--output", str(tmp_path / "nightly.sqlite3"))
    finally:
        writer.rollback()
        writer.close()

    site.manage("shell", "-c", DAMAGE)
    site.manage("restore", str(tmp_path / "nightly.sqlite3"), "--yes")

    assert site.snapshot() == before


@pytest.mark.skipif(not ON_POSTGRES, reason="DATABASE_URL is not PostgreSQL")
def test_a_postgresql_backup_without_pg_dump_says_what_to_install(tmp_path):
    url, drop = scratch_database(tmp_path)
    site = Site(tmp_path, url)
    site.env["PATH"] = str(tmp_path)  # no pg_dump here
    try:
        result = site.manage("backup", check=False)
    finally:
        drop()

    assert result.returncode != 0
    assert "pg_dump" in result.stderr and "apt-get install postgresql-client" in result.stderr


def test_a_backup_goes_to_a_timestamped_file_in_another_directory_when_asked(site, tmp_path):
    elsewhere = tmp_path / "nas" / "shelter-ops"
    before = site.snapshot()

    site.manage("backup", "--output", str(elsewhere))
    [backup] = elsewhere.iterdir()
    site.manage("shell", "-c", DAMAGE)
    site.manage("restore", str(backup), "--yes")

    assert backup.name.startswith("shelter-ops-") and backup.stat().st_mode & 0o777 == 0o600
    assert site.snapshot() == before
    [kept] = site.backups()
    assert "before-restore" in kept.name, "var/backups/ holds only the data as it was before the restore"
