"""Reads for the survey pages. Anything tied to a person goes through `shelters.policy`."""

from django.db.models import QuerySet

from shelters import selectors as shelter_selectors
from shelters.models import Evacuee, Shelter, User
from surveys.builtin import SURVEY_CODE
from surveys.models import SurveyToken, SurveyVersion


def current_version(*, survey_code: str = SURVEY_CODE) -> SurveyVersion | None:
    return SurveyVersion.objects.select_related("survey").filter(survey__code=survey_code, is_current=True).first()


def answerable_version(*, version_id, survey_code: str = SURVEY_CODE) -> SurveyVersion | None:
    """The version a form was rendered with (it may have stopped being current since), or None."""
    if not str(version_id).isdigit():
        return None
    return SurveyVersion.objects.select_related("survey").filter(survey__code=survey_code, pk=version_id).first()


def active_token(*, token: str) -> SurveyToken | None:
    token = token.strip().upper().replace("-", "").replace(" ", "")
    if not token:
        return None
    return SurveyToken.objects.select_related("evacuee").filter(token=token, revoked_at__isnull=True).first()


def proxy_respondents(*, user: User, shelter: Shelter) -> QuerySet[Evacuee]:
    """The residents staff may enter answers for: the shelter's current residents they may see."""
    stays = shelter_selectors.shelter_residents(user=user, shelter=shelter)
    return Evacuee.objects.filter(pk__in=stays.values("evacuee_id")).order_by("name_kana", "pk")
