"""Celery tasks of the surveys app. Each takes ids, re-reads its rows and is safe to run twice."""

from celery import shared_task

from surveys.imports import jobs as import_jobs


@shared_task(name="surveys.import_process", ignore_result=True)
def survey_import_process(job_id: int) -> None:
    """Run one slice of an import job; the job enqueues its own continuation while rows remain."""
    import_jobs.survey_import_run(job_id=job_id)


@shared_task(name="surveys.import_resume", ignore_result=True)
def survey_imports_resume() -> None:
    """Beat's sweep: import jobs whose message was lost are queued again."""
    import_jobs.survey_imports_resume()
