"""Celery tasks of the shelters app: the retention sweep, run by beat (settings.CELERY_BEAT_SCHEDULE).

It takes no arguments, re-reads the database and is safe to run twice or side by side: each batch
claims its people with SKIP LOCKED (shelters/services/retention.py).
"""

from celery import shared_task

from common.retries import RETRY
from shelters.services.retention import retention_anonymise_due


@shared_task(**RETRY)
def retention_anonymise() -> dict:
    """Anonymise everyone whose retention period is over, in bounded batches (audited per person and per run)."""
    run = retention_anonymise_due()
    return {"anonymised": run.anonymised, "batches": run.batches}
