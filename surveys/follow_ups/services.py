"""Every write to follow-up cases: opening one for a distressed answer, moving it along, and
moving open cases with their person to another shelter."""

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.errors import ApplicationError
from shelters.models import Evacuee, Shelter, User
from shelters.services.moves import PeopleMoved
from surveys import events
from surveys.models import FollowUp, FollowUpChange, FollowUpState, Response

# Allowed follow-up moves; closing is possible from any open state, and a case can be reopened.
FOLLOW_UP_TRANSITIONS: dict[str, set[str]] = {
    FollowUpState.NEW: {FollowUpState.CONTACTED, FollowUpState.REFERRED, FollowUpState.CLOSED},
    FollowUpState.CONTACTED: {FollowUpState.REFERRED, FollowUpState.CLOSED},
    FollowUpState.REFERRED: {FollowUpState.CONTACTED, FollowUpState.CLOSED},
    FollowUpState.CLOSED: set(),
}


def follow_up_open(*, response: Response, evacuee: Evacuee, shelter: Shelter) -> FollowUp:
    """Put a distressed resident on the list, or refresh their open case with the newer answer."""
    open_cases = FollowUp.objects.select_for_update().filter(evacuee=evacuee).exclude(state=FollowUpState.CLOSED)
    open_case = open_cases.first()
    if open_case is None:
        try:
            with transaction.atomic():
                follow_up = FollowUp.objects.create(
                    evacuee=evacuee, shelter=shelter, response=response, k6_score=response.k6_score
                )
        except IntegrityError:
            # Another answer of the same person opened a case at the same moment (the partial
            # unique index keeps one open case per person): refresh that one instead.
            open_case = open_cases.get()
        else:
            FollowUpChange.objects.create(
                follow_up=follow_up, from_state="", to_state=FollowUpState.NEW, changed_by=None
            )
            events.follow_ups_changed([shelter.pk])
            return follow_up
    events.follow_ups_changed({open_case.shelter_id, shelter.pk})
    open_case.response = response
    open_case.k6_score = response.k6_score
    open_case.shelter = shelter
    open_case.save(update_fields=["response", "k6_score", "shelter", "updated_at"])
    return open_case


@transaction.atomic
def follow_up_change_state(*, follow_up_id: int, to_state: str, actor: User, note: str = "") -> FollowUp:
    follow_up = FollowUp.objects.select_for_update().filter(pk=follow_up_id).first()
    if follow_up is None:
        raise ApplicationError(_("Follow-up not found."), code="not_found", status_code=404)
    if to_state not in FOLLOW_UP_TRANSITIONS.get(follow_up.state, set()):
        raise ApplicationError(
            _("A follow-up cannot move from %(from)s to %(to)s.")
            % {"from": FollowUpState(follow_up.state).label, "to": dict(FollowUpState.choices).get(to_state, to_state)},
            field="state",
        )
    FollowUpChange.objects.create(
        follow_up=follow_up, from_state=follow_up.state, to_state=to_state, changed_by=actor, note=note[:500]
    )
    follow_up.state = to_state
    follow_up.save(update_fields=["state", "updated_at"])
    events.follow_ups_changed([follow_up.shelter_id])
    audit_record(
        actor=actor,
        action="follow_up.change_state",
        object_type="surveys.FollowUp",
        object_id=follow_up.pk,
        details={"to_state": to_state},
    )
    return follow_up


def follow_ups_open_for_person() -> Exists:
    """True for a person (an Evacuee row) with an open case: what `follow_ups_follow_person` moves."""
    return Exists(FollowUp.objects.filter(evacuee_id=OuterRef("pk")).exclude(state=FollowUpState.CLOSED))


def follow_ups_follow_person(move: PeopleMoved) -> None:
    """Open cases of people who moved go to their new shelter (a `shelters` move handler).

    Runs inside the stay service's transaction: the old shelter's managers stop seeing the case and
    the new shelter's start, at the same commit; both shelters' dashboards refresh their lists.
    """
    moving = list(
        FollowUp.objects.select_for_update()
        .filter(evacuee_id__in=move.evacuee_ids)
        .exclude(state=FollowUpState.CLOSED)
        .exclude(shelter_id=move.to_shelter_id)
        .values_list("pk", "shelter_id")
    )
    if not moving:
        return
    FollowUp.objects.filter(pk__in=[pk for pk, _shelter in moving]).update(shelter_id=move.to_shelter_id)
    events.follow_ups_changed({move.to_shelter_id, *(shelter_id for _pk, shelter_id in moving)})
    for pk, shelter_id in moving:
        audit_record(
            actor=move.actor,
            action="follow_up.follow_person",
            object_type="surveys.FollowUp",
            object_id=pk,
            details={"from_shelter": shelter_id, "to_shelter": move.to_shelter_id},
        )
