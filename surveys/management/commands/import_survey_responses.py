import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.errors import ApplicationError
from shelters.models import Shelter
from surveys.imports import jobs as import_jobs
from surveys.models import ImportState, SurveyImportMapping


class Command(BaseCommand):
    # argparse needs plain strings here, not lazy translations.
    help = (
        "Import survey responses from a Qualtrics or KoBoToolbox CSV export through the same job and "
        "checks as the import page. Nothing is imported if any row is bad, unless --skip-invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--shelter", metavar="ID", help="Shelter id or code of every row.")
        where.add_argument(
            "--shelter-column", metavar="COL", help="Column holding each row's shelter id, code or name."
        )
        parser.add_argument("--mapping", metavar="NAME|FILE.json", help="A saved mapping's name, or a JSON file.")
        parser.add_argument("--skip-invalid", action="store_true", help="Import the valid rows and list the bad ones.")

    def handle(self, *args, file: str, shelter, shelter_column, mapping, skip_invalid: bool, **options):
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": error}) from error
        target = None
        if shelter:
            condition = Q(code=shelter) | (Q(pk=int(shelter)) if shelter.isdigit() else Q(pk=None))
            target = Shelter.objects.filter(condition).first()
            if target is None:
                raise CommandError(_("No shelter with id or code %(shelter)s.") % {"shelter": shelter})
        saved = self._mapping(mapping, shelter_column)
        try:
            job = import_jobs.survey_import_create(
                file_name=path.name,
                content=content,
                uploaded_by=None,
                shelter=target,
                saved_mapping=saved,
                skip_invalid=skip_invalid,
                language=translation.get_language() or "",
                enqueue=False,
            )
        except ApplicationError as error:
            raise CommandError(f"{file}: {error.message}") from None
        while job is not None and job.state not in (ImportState.DONE, ImportState.FAILED):
            job = import_jobs.survey_import_run(job_id=job.pk, time_budget=float("inf"))
        for error in job.errors:
            line = f"{file}:{error['line']}: {error['field']}: {error['message']}"
            self.stderr.write(self.style.WARNING(line) if job.state == ImportState.DONE else line)
        if job.state == ImportState.FAILED:
            raise CommandError(
                ngettext(
                    "%(count)d error; nothing was imported. Fix it, or use --skip-invalid.",
                    "%(count)d errors; nothing was imported. Fix them, or use --skip-invalid.",
                    job.error_count,
                )
                % {"count": job.error_count}
                if job.imported == 0
                else job.message
            )
        self.stdout.write(
            _("imported %(imported)d, duplicates %(duplicates)d, skipped %(skipped)d, ignored %(ignored)d")
            % {
                "imported": job.imported,
                "duplicates": job.duplicates,
                "skipped": job.invalid_rows,
                "ignored": job.ignored,
            }
        )

    def _mapping(self, mapping: str | None, shelter_column: str | None) -> SurveyImportMapping | None:
        """A saved mapping, or an unsaved one from a JSON file or the --shelter-column option."""
        data: dict = {}
        if mapping:
            saved = SurveyImportMapping.objects.filter(name=mapping).first()
            if saved is not None:
                data = dict(saved.mapping)
            else:
                try:
                    data = json.loads(Path(mapping).read_text(encoding="utf-8"))
                except (OSError, ValueError) as error:
                    raise CommandError(
                        _("%(mapping)s is neither a saved mapping nor a JSON file: %(error)s")
                        % {"mapping": mapping, "error": error}
                    ) from error
        if shelter_column:
            data["shelter_column"] = shelter_column
        return SurveyImportMapping(name="(command line)", mapping=data) if data else None
