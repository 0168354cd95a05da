"""Survey tokens and respondents: the only code that reads a person's token or links one to answers.

A token follows its person: it is accepted at the shelter where the person stays now (or anywhere
while they stay nowhere), and the slip's QR code points at that shelter, so after a transfer the
same slip's token works at the new shelter and no longer at the old one.
"""

from dataclasses import dataclass

from access import policy
from access.errors import NotVisible
from access.people import access_evacuee_by_id, shelter_residents
from shelters.models import Evacuee, Shelter, Stay
from surveys.models import SurveyToken


@dataclass(frozen=True)
class SurveySlip:
    evacuee: Evacuee
    token: SurveyToken | None
    shelter: Shelter | None  # where the person stays now: the survey their QR code opens


def survey_slip_for(user, evacuee_id: int, *, purpose: str) -> SurveySlip:
    """A person's slip: their active token and current shelter; NotVisible as `access_evacuee_by_id`."""
    evacuee = access_evacuee_by_id(user, evacuee_id, purpose=purpose)
    token = SurveyToken.objects.filter(evacuee=evacuee, revoked_at__isnull=True).first()
    stay = Stay.objects.select_related("shelter").filter(evacuee=evacuee, checked_out_at__isnull=True).first()
    return SurveySlip(evacuee=evacuee, token=token, shelter=stay.shelter if stay else None)


def normalized_token(text: str) -> str:
    return text.strip().upper().replace("-", "").replace(" ", "")


UNKNOWN_TOKEN = "unknown"
OTHER_SHELTER = "other_shelter"


def respondent_for_token(*, token: str, shelter: Shelter) -> tuple[Evacuee | None, str | None]:
    """(the person, None) when the token is active and accepted at this shelter; else (None, why).

    The public survey page asks this; nothing is shown to whoever holds the token, so no read is
    recorded. A token links answers to the person only at the shelter whose staff may see them:
    where the person stays, or anywhere while they stay nowhere.
    """
    text = normalized_token(token)
    if not text:
        return None, None
    found = SurveyToken.objects.select_related("evacuee").filter(token=text, revoked_at__isnull=True).first()
    if found is None:
        return None, UNKNOWN_TOKEN
    staying_elsewhere = (
        Stay.objects.filter(evacuee_id=found.evacuee_id, checked_out_at__isnull=True).exclude(shelter=shelter).exists()
    )
    if staying_elsewhere:
        return None, OTHER_SHELTER
    return found.evacuee, None


def proxy_respondents(*, user, shelter: Shelter, purpose: str) -> list[Evacuee]:
    """The residents staff may enter answers for: the shelter's current residents, by name."""
    if not policy.can_run_surveys_at(user, shelter):
        raise NotVisible(field="shelter")
    stays = shelter_residents(user=user, shelter=shelter, purpose=purpose)
    return sorted((stay.evacuee for stay in stays), key=lambda person: (person.name_kana, person.pk))
