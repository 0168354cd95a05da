"""Recompute the survey reports' per-shelter, per-day totals from the responses."""

from django.core.management.base import BaseCommand
from django.db import transaction

from surveys.reports.build import rollup_rebuild


class Command(BaseCommand):
    help = "Recompute surveys.ReportDay from the survey responses (run with submissions stopped)."

    def handle(self, *args, **options):
        with transaction.atomic():
            count = rollup_rebuild()
        self.stdout.write(f"{count} report days rebuilt.")
