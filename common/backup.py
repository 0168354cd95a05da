"""Backing up the site's one database and restoring it: SQLite or PostgreSQL, whichever it runs on.

SQLite (the embedded default) is copied with SQLite's online backup API, which reads a consistent
snapshot while daphne and the Celery worker go on writing (WAL mode lets writers work beside a
reader). PostgreSQL is dumped with `pg_dump --format=custom` and restored with `pg_restore` in one
transaction. A backup is written under a temporary name and renamed when complete and checked, so
a job killed halfway never leaves a file that looks like a backup; files are readable by their
owner only (mode 0600): they hold every person's data. See docs/operations.md.
"""

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _

from common.errors import ApplicationError

PREFIX = "shelter-ops-"
SQLITE_SUFFIX = ".sqlite3"
POSTGRES_SUFFIX = ".pgdump"
# The first bytes of each kind of file: a restore refuses anything else before touching the data.
SQLITE_MAGIC = b"SQLite format 3\x00"
POSTGRES_MAGIC = b"PGDMP"


class BackupError(ApplicationError):
    pass


@dataclass(frozen=True)
class Database:
    """The default database, as the backup tools need to know it."""

    kind: str  # "sqlite" or "postgresql"
    settings_dict: dict

    @property
    def name(self) -> str:
        return str(self.settings_dict["NAME"])

    @property
    def suffix(self) -> str:
        return SQLITE_SUFFIX if self.kind == "sqlite" else POSTGRES_SUFFIX

    @property
    def magic(self) -> bytes:
        return SQLITE_MAGIC if self.kind == "sqlite" else POSTGRES_MAGIC


def database_current() -> Database:
    settings_dict = connections["default"].settings_dict
    engine = settings_dict["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return Database(kind="sqlite", settings_dict=settings_dict)
    if engine == "django.db.backends.postgresql":
        return Database(kind="postgresql", settings_dict=settings_dict)
    raise BackupError(_("Backups support SQLite and PostgreSQL, not %(engine)s.") % {"engine": engine})


def default_backup_dir() -> Path:
    return Path(settings.VAR_DIR) / "backups"


def backup_create(*, output: Path | None = None, keep: int = 0, label: str = "") -> Path:
    """Back the database up into `output` (a file named with the database's suffix, .sqlite3 or
    .pgdump; else a directory, for a timestamped file; var/backups/ by default) and, in a directory,
    delete all but the newest `keep` backups (0: keep them all)."""
    database = database_current()
    into_file = output is not None and output.suffix == database.suffix
    directory, target = _target(database, output, label, into_file=into_file)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if database.kind == "sqlite":
            _sqlite_copy(source=Path(database.name), target=partial)
            _sqlite_standalone(partial)
        else:
            _pg_dump(database, target=partial)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    if keep and not into_file:
        backups_prune(directory=directory, suffix=database.suffix, keep=keep)
    return target


def _target(database: Database, output: Path | None, label: str, *, into_file: bool) -> tuple[Path, Path]:
    if output is not None and into_file:
        return output.parent, output
    directory = output or default_backup_dir()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return directory, directory / f"{PREFIX}{stamp}{label}{database.suffix}"


def backups_prune(*, directory: Path, suffix: str, keep: int) -> list[Path]:
    """Delete the oldest of this site's backups in `directory` beyond the newest `keep`; other files stay."""
    # The names carry a sortable UTC timestamp, so name order is age order.
    backups = sorted(directory.glob(f"{PREFIX}*{suffix}"), reverse=True)
    removed = backups[keep:]
    for path in removed:
        path.unlink()
    return removed


def backup_restore(*, source: Path) -> Path | None:
    """Replace the database's content with the backup `source`, after checking it is one of ours and
    backing the current data up beside the others (returned, None when there was no database yet)."""
    database = database_current()
    backup_check(database, source)
    current = Path(database.name)
    safety = None
    if database.kind == "postgresql" or current.exists():
        safety = backup_create(label="-before-restore")
    connections.close_all()  # this process holds no lock on what is about to be replaced
    if database.kind == "sqlite":
        _sqlite_copy(source=source, target=current)
    else:
        _pg_restore(database, source=source)
    return safety


def backup_check(database: Database, source: Path) -> None:
    try:
        with source.open("rb") as file:
            head = file.read(len(database.magic))
    except OSError as error:
        raise BackupError(_("Cannot read %(file)s: %(error)s") % {"file": source, "error": error}) from error
    if head != database.magic:
        raise BackupError(
            _("%(file)s is not a backup of this site's database (%(kind)s).") % {"file": source, "kind": database.kind}
        )


def _sqlite_copy(*, source: Path, target: Path) -> None:
    """Copy one SQLite database into another, page by page, as one consistent snapshot."""
    reading = sqlite3.connect(source, timeout=20)
    writing = sqlite3.connect(target, timeout=20)
    try:
        reading.backup(writing)
        problems = writing.execute("PRAGMA quick_check").fetchone()[0]
        if problems != "ok":
            raise BackupError(_("The copy failed its integrity check: %(problems)s") % {"problems": problems})
    finally:
        writing.close()
        reading.close()


def _sqlite_standalone(path: Path) -> None:
    # The copy inherits the live database's WAL mode; a backup is better one self-contained file.
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _(
                "%(tool)s was not found. Install the PostgreSQL client tools of the server's version "
                "(Debian: apt-get install postgresql-client) or put them on PATH."
            )
            % {"tool": name}
        )
    return path


def _pg_environment(database: Database) -> dict[str, str]:
    # The password goes in the environment, never on a command line that `ps` shows.
    values = database.settings_dict
    environment = {
        "PGHOST": values.get("HOST") or "",
        "PGPORT": str(values.get("PORT") or ""),
        "PGUSER": values.get("USER") or "",
        "PGPASSWORD": values.get("PASSWORD") or "",
        "PGDATABASE": database.name,
        "PGSSLMODE": (values.get("OPTIONS") or {}).get("sslmode", ""),
    }
    return {**os.environ, **{name: value for name, value in environment.items() if value}}


def _pg_run(database: Database, command: list[str]) -> None:
    result = subprocess.run(command, env=_pg_environment(database), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            _("%(tool)s failed: %(error)s") % {"tool": Path(command[0]).name, "error": result.stderr.strip()}
        )


def _pg_dump(database: Database, *, target: Path) -> None:
    _pg_run(database, [pg_tool("pg_dump"), "--format=custom", f"--file={target}"])


def _pg_restore(database: Database, *, source: Path) -> None:
    # --clean drops what the dump holds before recreating it; one transaction, so a failed restore
    # leaves the database as it was.
    command = [pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _pg_run(database, [*command, "--exit-on-error", f"--dbname={database.name}", str(source)])
