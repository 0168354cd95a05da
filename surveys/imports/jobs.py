"""Importing a file of survey responses: create the job, check every row, then store them.

The policy: the whole file is checked first, and by default nothing is imported when any row is
bad (the job fails listing every bad line). With `skip_invalid` the valid rows are imported and
the bad ones listed. Each row is stored by `surveys.services.response_submit` (channel `import`),
the one write path, in its own transaction, under the key `import:<format>:<response id>`: a file
imported twice, or a job run twice, stores each response once. A row refused at write time
(rare: the shelter was removed meanwhile) is listed like a bad row and the others go on.

A job works in slices of at most `TIME_BUDGET_SECONDS` and enqueues its own continuation, so a
large file never runs into the Celery time limit; `rows_processed` is where the next slice starts.
"""

import itertools
import logging
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from access import policy
from common.audit import audit_record
from common.errors import ApplicationError
from realtime import outage
from shelters.models import Shelter, User
from surveys.imports import formats as importers
from surveys.imports.formats import FileProblem, ImportFile, RowError, RowReader
from surveys.models import (
    ImportState,
    ResponseChannel,
    SurveyImport,
    SurveyImportMapping,
    SurveyVersion,
)
from surveys.services import response_submit, submission_clean, version_questions

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
CHUNK_ROWS = 100
TIME_BUDGET_SECONDS = 120.0
# A running job whose progress has not moved for this long lost its worker; another may take it.
STALE_AFTER = timedelta(minutes=10)


@dataclass
class Prepared:
    file: ImportFile
    mapping: dict
    reader: RowReader


def current_version() -> SurveyVersion:
    from surveys.builtin import SURVEY_CODE

    return SurveyVersion.objects.select_related("survey").get(survey__code=SURVEY_CODE, is_current=True)


def import_prepare(*, content: bytes, version: SurveyVersion, saved_mapping: SurveyImportMapping | None) -> Prepared:
    """Read the file's header and settle the mapping; FileProblem when the file cannot be imported at all."""
    import_file = ImportFile.read(content)
    questions = version_questions(version)
    automatic = importers.automatic_mapping(import_file, questions)
    mapping = importers.merged_mapping(automatic, saved_mapping.mapping if saved_mapping else None)
    problems = importers.mapping_problems(mapping)
    if problems:
        raise FileProblem([RowError(1, "mapping", problem) for problem in problems])
    reader = RowReader(import_file, mapping, questions)
    errors = reader.header_errors()
    if errors:
        raise FileProblem(errors)
    return Prepared(file=import_file, mapping=mapping, reader=reader)


def survey_import_create(
    *,
    file_name: str,
    content: bytes,
    uploaded_by: User | None,
    shelter: Shelter | None,
    saved_mapping: SurveyImportMapping | None = None,
    skip_invalid: bool = False,
    language: str = "",
    enqueue: bool = True,
) -> SurveyImport:
    """Store the file as a queued job and hand it to a worker after commit.

    The header is checked here, so a file that cannot be imported at all is refused at once.
    """
    if len(content) > MAX_FILE_BYTES:
        raise ApplicationError(_("The file is larger than 20 MB: split it."), field="file")
    if shelter is not None and uploaded_by is not None and not policy.can_operate_shelter(uploaded_by, shelter):
        raise ApplicationError(_("You do not operate this shelter."), field="shelter", status_code=403)
    version = current_version()
    try:
        prepared = import_prepare(content=content, version=version, saved_mapping=saved_mapping)
    except FileProblem as problem:
        raise ApplicationError(
            "; ".join(str(error) for error in problem.errors[:5]), code="invalid_file", field="file"
        ) from None
    if shelter is None and not prepared.mapping.get("shelter_column"):
        raise ApplicationError(
            _("Choose the shelter of the whole file, or name the shelter column in the mapping."), field="shelter"
        )
    if shelter is not None:
        prepared.mapping["shelter_column"] = ""  # one shelter for the whole file, as chosen
    with transaction.atomic():
        job = SurveyImport.objects.create(
            version=version,
            file_name=file_name[:255],
            content=content,
            file_format=prepared.file.file_format,
            encoding=prepared.file.encoding,
            saved_mapping=saved_mapping if saved_mapping is not None and saved_mapping.pk else None,
            mapping=prepared.mapping,
            shelter=shelter,
            skip_invalid=skip_invalid,
            language=language[:8],
            uploaded_by=uploaded_by,
        )
        if enqueue:
            transaction.on_commit(lambda: _enqueue(job.pk), robust=True)
    return job


def _enqueue(job_id: int) -> None:
    """Hand the job to a worker; when Redis is out it stays queued, durable, for the resume sweep.

    While an outage lasts this returns at once, without touching Redis (realtime/outage.py), so an
    upload is answered at its usual speed; `survey_imports_resume` queues the job again later.
    """
    from surveys.tasks import survey_import_process

    try:
        outage.TASKS.run(lambda: survey_import_process.apply_async((job_id,), retry=False))
    except Exception:
        logger.exception("survey import %s could not be enqueued", job_id)


# Queued jobs older than this are queued again by beat's sweep: their message was lost (the broker
# was down at upload, or Redis restarted empty). A duplicate message is harmless: `_claim` lets
# one run take a job at a time.
RESUME_AFTER = timedelta(minutes=1)


def survey_imports_resume(*, now=None) -> list[int]:
    """Queue again every job waiting without a message, and every running job whose worker died."""
    now = now or timezone.now()
    waiting = Q(state=ImportState.QUEUED, updated_at__lt=now - RESUME_AFTER)
    abandoned = Q(state=ImportState.RUNNING, updated_at__lt=now - STALE_AFTER)
    job_ids = list(SurveyImport.objects.filter(waiting | abandoned).order_by("pk").values_list("pk", flat=True))
    for job_id in job_ids:
        _enqueue(job_id)
    return job_ids


# --- Running ------------------------------------------------------------------------------------


class _Shelters:
    """Shelter references in a file (id, code or name) -> shelters the uploader may import into."""

    def __init__(self, uploaded_by: User | None):
        self.uploaded_by = uploaded_by
        self.cache: dict[str, Shelter | str] = {}

    def resolve(self, reference: str) -> Shelter | str:
        key = unicodedata.normalize("NFKC", reference).strip()
        if key not in self.cache:
            condition = Q(code=key) | Q(name=key) | Q(common_id=key)
            if key.isdigit():
                condition |= Q(pk=int(key))
            shelter = Shelter.objects.filter(condition).order_by("pk").first()
            if shelter is None:
                self.cache[key] = _("Unknown shelter “%(value)s”.") % {"value": reference[:60]}
            elif self.uploaded_by is not None and not policy.can_operate_shelter(self.uploaded_by, shelter):
                self.cache[key] = _("You do not operate the shelter “%(value)s”.") % {"value": reference[:60]}
            else:
                self.cache[key] = shelter
        return self.cache[key]


def _claim(job_id: int) -> SurveyImport | None:
    """Take the job for this run, or None when it is gone, finished or being run by a live worker."""
    now = timezone.now()
    claimable = Q(state=ImportState.QUEUED) | Q(state=ImportState.RUNNING, updated_at__lt=now - STALE_AFTER)
    claimed = SurveyImport.objects.filter(claimable, pk=job_id).update(state=ImportState.RUNNING, updated_at=now)
    if claimed != 1:
        return None
    job = SurveyImport.objects.select_related("version", "uploaded_by", "shelter", "saved_mapping").get(pk=job_id)
    if job.started_at is None:
        job.started_at = now
        job.save(update_fields=["started_at"])
    return job


def _continue(job_id: int) -> None:
    """Hand the rest to the next slice: back to queued, then enqueued."""
    SurveyImport.objects.filter(pk=job_id, state=ImportState.RUNNING).update(
        state=ImportState.QUEUED, updated_at=timezone.now()
    )
    _enqueue(job_id)


def _finish(job: SurveyImport, state: str, message: str = "") -> None:
    job.state = state
    job.message = message[:500]
    job.finished_at = timezone.now()
    job.save()


def _record_errors(job: SurveyImport, errors: list[RowError]) -> None:
    job.error_count += len(errors)
    room = importers.MAX_ERRORS_KEPT - len(job.errors)
    if room > 0:
        job.errors = job.errors + [error.as_dict() for error in errors[:room]]


def survey_import_run(*, job_id: int, time_budget: float = TIME_BUDGET_SECONDS) -> SurveyImport | None:
    """Run one slice of a job (the Celery task and the command call this). Safe to run twice."""
    job = _claim(job_id)
    if job is None:
        return None
    # Messages by line are written in the uploader's language, as the page they read them on.
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return _run(job, time_budget=time_budget)


def _run(job: SurveyImport, *, time_budget: float) -> SurveyImport:
    started = time.monotonic()
    try:
        # The mapping settled at upload is the one used, even if the saved mapping changed since.
        import_file = ImportFile.read(bytes(job.content))
        prepared = Prepared(
            file=import_file,
            mapping=job.mapping,
            reader=RowReader(import_file, job.mapping, version_questions(job.version)),
        )
        header = prepared.reader.header_errors()
        if header:
            raise FileProblem(header)
        if job.rows_checked < job.total_rows or job.total_rows == 0:
            _check(job, prepared)
            if job.state != ImportState.RUNNING:
                return job
        finished = _store(job, prepared, started=started, time_budget=time_budget)
    except FileProblem as problem:
        _record_errors(job, problem.errors)
        _finish(job, ImportState.FAILED, _("The file cannot be imported."))
        return job
    except Exception:
        logger.exception("survey import %s failed", job.pk)
        _finish(job, ImportState.FAILED, _("The import stopped on an unexpected error; it can be uploaded again."))
        return job
    if not finished:
        _continue(job.pk)
    return job


def _row_problems(row, reader: RowReader, job: SurveyImport, shelters: _Shelters, seen: dict) -> list[RowError]:
    errors = list(row.errors)
    if job.mapping.get("shelter_column"):
        column = job.mapping["shelter_column"]
        if not row.shelter_reference:
            errors.append(RowError(row.line, "shelter", _("The shelter is empty."), column))
        else:
            found = shelters.resolve(row.shelter_reference)
            if isinstance(found, str):
                errors.append(RowError(row.line, "shelter", found, column))
    if row.response_id:
        if row.response_id in seen:
            column = job.mapping["response_id_column"]
            errors.append(
                RowError(
                    row.line,
                    column,
                    _("The response id %(id)s is already on line %(line)d.")
                    % {"id": row.response_id[:60], "line": seen[row.response_id]},
                    column,
                )
            )
        else:
            seen[row.response_id] = row.line
    try:
        submission_clean(version=job.version, raw_answers=row.raw_answers)
    except ApplicationError as error:
        for code, messages in error.fields.items():
            errors.extend(RowError(row.line, code, message, reader.column_of(code)) for message in messages)
    return errors


def _check(job: SurveyImport, prepared: Prepared) -> None:
    """Check every row; in the default policy a single bad row fails the job before anything is stored."""
    job.total_rows = prepared.file.count_rows()
    job.rows_checked = 0
    job.errors, job.error_count, job.invalid_rows, job.ignored = [], 0, 0, 0
    job.save()
    shelters = _Shelters(job.uploaded_by)
    seen: dict[str, int] = {}
    for number, (line, values) in enumerate(prepared.file.rows(), 1):
        row = prepared.reader.read(line, values)
        if row.ignored:
            job.ignored += 1
        else:
            problems = _row_problems(row, prepared.reader, job, shelters, seen)
            if problems:
                job.invalid_rows += 1
                _record_errors(job, problems)
        if number % (CHUNK_ROWS * 10) == 0:
            job.rows_checked = number
            job.save(update_fields=["rows_checked", "errors", "error_count", "invalid_rows", "ignored", "updated_at"])
    job.rows_checked = job.total_rows
    if job.invalid_rows and not job.skip_invalid:
        _finish(job, ImportState.FAILED, _("Nothing was imported: fix the rows listed, or import only the valid rows."))
        return
    job.save()


def _store_row(job: SurveyImport, row, *, shelters: "_Shelters", key: str, entered_by: User | None) -> None:
    shelter = job.shelter or shelters.resolve(row.shelter_reference)
    try:
        _response, created = response_submit(
            version=job.version,
            shelter=shelter,
            raw_answers=row.raw_answers,
            channel=ResponseChannel.IMPORT,
            submission_key=key,
            entered_by=entered_by,
            answered_at=row.answered_at,
        )
    except ApplicationError as error:
        job.invalid_rows += 1
        _record_errors(job, [RowError(row.line, error.field or "row", str(error.message))])
    else:
        if created:
            job.imported += 1
        else:
            job.duplicates += 1


def _store(job: SurveyImport, prepared: Prepared, *, started: float, time_budget: float) -> bool:
    """Store rows from `rows_processed` on; True when the file is done, False when the slice ran out of time.

    One transaction per chunk of rows, each row in a savepoint of its own (`response_submit`'s
    atomic block): a refused row rolls back alone, the chunk's progress commits with its rows (a
    crash loses the chunk and its count together), and what the rows changed goes out to the
    dashboards once per chunk, not once per row.
    """
    shelters = _Shelters(job.uploaded_by)
    seen: dict[str, int] = {}
    entered_by = job.uploaded_by
    key_prefix = f"import:{job.file_format}:"
    rows = enumerate(prepared.file.rows(), 1)
    while True:
        stored_any = False
        with transaction.atomic():
            chunk = list(itertools.islice(rows, CHUNK_ROWS))
            for number, (line, values) in chunk:
                row = prepared.reader.read(line, values)
                # Rows before the resume point still feed the duplicate-id check, so line numbers stay right.
                problems = [] if row.ignored else _row_problems(row, prepared.reader, job, shelters, seen)
                if number <= job.rows_processed:
                    continue
                stored_any = True
                if not row.ignored and not problems:
                    _store_row(job, row, shelters=shelters, key=key_prefix + row.response_id, entered_by=entered_by)
                job.rows_processed = number
            if stored_any:
                job.save()
        if len(chunk) < CHUNK_ROWS:
            break
        if stored_any and time.monotonic() - started > time_budget:
            return False
    job.rows_processed = job.total_rows
    if job.skip_invalid and job.invalid_rows:
        message = _("Imported the valid rows; the rows listed were skipped.")
    else:
        message = ""
    _finish(job, ImportState.DONE, message)
    return True


def import_progress(job: SurveyImport) -> dict:
    """What the job page polls: figures only, never an answer."""
    total = job.total_rows or 0
    percent = round(10 * job.rows_checked / total + 90 * job.rows_processed / total) if total else 0
    if job.state == ImportState.DONE:
        percent = 100
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "total_rows": total,
        "rows_checked": job.rows_checked,
        "rows_processed": job.rows_processed,
        "imported": job.imported,
        "duplicates": job.duplicates,
        "ignored": job.ignored,
        "invalid_rows": job.invalid_rows,
        "error_count": job.error_count,
        "percent": percent,
        "finished": job.state in (ImportState.DONE, ImportState.FAILED),
        "message": job.message,
    }


# --- Saved mappings -----------------------------------------------------------------------------


@transaction.atomic
def survey_import_mapping_save(
    *, name: str, mapping, actor: User | None, notes: str | None = None
) -> SurveyImportMapping:
    """Save a mapping under a name for later imports, replacing the one of that name if any."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the mapping a name."), field="name")
    problems = importers.mapping_problems(mapping)
    if problems:
        raise ApplicationError(problems[0], field="mapping", fields={"mapping": problems})
    defaults = {"mapping": mapping} | ({"notes": notes} if notes is not None else {})
    saved, _created = SurveyImportMapping.objects.update_or_create(name=name[:100], defaults=defaults)
    audit_record(
        actor=actor,
        action="survey_import_mapping.save",
        object_type="surveys.SurveyImportMapping",
        object_id=saved.pk,
        details={"name": saved.name},
    )
    return saved


@transaction.atomic
def survey_import_mapping_delete(*, mapping_id: int, actor: User | None) -> None:
    """Forget a saved mapping; imports that used it keep the copy they ran with."""
    deleted, _by_model = SurveyImportMapping.objects.filter(pk=mapping_id).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="survey_import_mapping.delete",
            object_type="surveys.SurveyImportMapping",
            object_id=mapping_id,
        )
