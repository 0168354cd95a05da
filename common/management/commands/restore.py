"""`python manage.py restore FILE`: put a backup back, replacing every row of the database."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from common.backup import BackupError, backup_check, backup_restore, database_current


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup made by `manage.py backup`. Stop the site first; the "
        "current data is backed up to var/backups/ before anything is replaced. See docs/operations.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation (scripts).")

    def handle(self, *args, file: Path, yes: bool, **options):
        try:
            database = database_current()
            backup_check(database, file)
            if not yes:
                self._confirm(database.name, file)
            safety = backup_restore(source=file)
        except BackupError as error:
            raise CommandError(error.message) from error
        if safety:
            self.stdout.write(_("The data as it was before: %(file)s") % {"file": safety})
        self.stdout.write(
            _("Restored %(file)s. Start the site again (make run migrates a backup from an older version).")
            % {"file": file}
        )

    def _confirm(self, database: str, file: Path) -> None:
        if not sys.stdin.isatty():
            raise CommandError(_("Nothing restored: confirm with --yes when not at a terminal."))
        question = _("Replace every row of the database %(database)s with %(file)s? Type yes to go on: ") % {
            "database": database,
            "file": file,
        }
        if input(question).strip().lower() != "yes":
            raise CommandError(_("Nothing restored."))
