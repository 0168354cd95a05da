"""`python manage.py backup`: a copy of the whole database, safe while the site runs; for a nightly job."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from common.backup import BackupError, backup_create, default_backup_dir


class Command(BaseCommand):
    # argparse needs plain strings here, not lazy translations.
    help = (
        "Back up the database (SQLite: online backup API, safe while the site runs; PostgreSQL: pg_dump) "
        "into a timestamped file under var/backups/, or --output. See docs/operations.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="A directory for the timestamped file (default: var/backups/), or the file to write when it ends "
            "in .sqlite3 (SQLite) or .pgdump (PostgreSQL).",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=14,
            help="In the directory, keep the newest this many backups and delete older ones (0 keeps all; default 14).",
        )

    def handle(self, *args, output: Path | None, keep: int, **options):
        if keep < 0:
            raise CommandError(_("--keep must be 0 or more."))
        try:
            path = backup_create(output=output, keep=keep)
        except BackupError as error:
            raise CommandError(error.message) from error
        self.stdout.write(_("Backup written: %(file)s") % {"file": path})
        if output is None:
            self.stdout.write(
                _("Copy %(dir)s off this machine too: a backup on the same disk does not survive the disk.")
                % {"dir": default_backup_dir()}
            )
