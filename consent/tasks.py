"""Celery tasks of the consent app. Each is safe to run twice."""

from celery import shared_task

from consent.services import releases_end


@shared_task(name="consent.releases_end", ignore_result=True)
def consent_releases_end() -> None:
    """Beat: write down and audit, once each, the legal-basis releases that have ended."""
    releases_end()
