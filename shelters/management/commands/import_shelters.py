from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shelters.importers import RowError, parse_shelter_file
from shelters.models import DataSource
from shelters.services import shelter_registry_import


class Command(BaseCommand):
    # argparse needs plain strings here, not lazy translations.
    help = (
        "Import shelters from registry CSV files (municipal standard open data, GSI's list, or Nanao's "
        "snapshots), creating or updating them by ID. Status and occupancy are never changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid rows and list the skipped ones, instead of importing nothing.",
        )
        parser.add_argument("--source", choices=DataSource.values, default=DataSource.REAL)

    def handle(self, *args, files: list[str], skip_invalid: bool, source: str, **options):
        records = []
        problems: list[tuple[str, RowError]] = []
        # Every file is read before anything is written, so one bad file stops the whole import.
        for path in files:
            try:
                result = parse_shelter_file(path)
            except OSError as error:
                raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": path, "error": error}) from error
            records.extend(result.records)
            problems.extend((path, error) for error in result.errors)

        if problems and not skip_invalid:
            for path, error in problems:
                self.stderr.write(f"{path}:{error.line}: {error.field}: {error.message}")
            raise CommandError(
                ngettext(
                    "%(count)d error; nothing was imported. Fix it, or use --skip-invalid.",
                    "%(count)d errors; nothing was imported. Fix them, or use --skip-invalid.",
                    len(problems),
                )
                % {"count": len(problems)}
            )
        for path, error in problems:
            message = _("Skipped %(file)s:%(line)d: %(field)s: %(message)s") % {
                "file": path,
                "line": error.line,
                "field": error.field,
                "message": error.message,
            }
            self.stderr.write(self.style.WARNING(message))

        summary = shelter_registry_import(records=records, actor=None, source=source)
        line = _("created %(created)d, updated %(updated)d") % {"created": summary.created, "updated": summary.updated}
        if summary.unchanged:
            line += " " + _("(%(count)d unchanged)") % {"count": summary.unchanged}
        self.stdout.write(line)
