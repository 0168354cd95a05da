"""Removing survey rows of a source (sample data, a replay): see `common.sources`.

Runs after supply (whose requests refer to answers) and before shelters (answers, follow-ups and
imports refer to shelters and people). The report's rollups are rebuilt when answers went.
"""

from django.db.models import Q

from common.sources import DataSource, SourceRemoval
from surveys.demo import sample_responses_load
from surveys.models import FollowUp, FollowUpChange, Response, SurveyImport
from surveys.reports import build as reports


def survey_rows_remove(removal: SourceRemoval) -> dict[str, int]:
    source = removal.source
    at_its_shelters = Q(shelter__source=source) if removal.shelters_go else Q(pk__in=[])
    responses = Response.objects.filter(Q(source=source) | at_its_shelters)
    follow_ups = FollowUp.objects.filter(Q(response__in=responses) | Q(evacuee__source=source) | at_its_shelters)
    FollowUpChange.objects.filter(follow_up__in=follow_ups).delete()
    follow_ups.delete()
    if removal.shelters_go:
        SurveyImport.objects.filter(shelter__source=source).delete()
    removed = responses.count()
    responses.delete()
    if removed:
        reports.rollup_rebuild()
    return {"survey_responses_removed": removed}


def survey_sample_load() -> dict[str, int]:
    sample_responses_load()
    return {"survey_responses": Response.objects.filter(source=DataSource.SAMPLE).count()}
