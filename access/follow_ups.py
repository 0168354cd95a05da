"""Follow-up cases (a name with a K6 score): the only code that filters them for a reader.

HQ and administrators see every case, a manager the cases of the shelters they operate, officials
none. A case is at the shelter where its person stays: the stay services move open cases along
with the person (`surveys.follow_ups.services.follow_ups_follow_person`), so the new shelter's
manager sees it and the old one no longer does.
"""

from collections.abc import Callable, Sequence

from django.db.models import Prefetch, QuerySet

from access import consent, policy
from access.errors import NotVisible, object_id
from consent.rules import Category
from surveys.models import FollowUp, FollowUpChange, FollowUpState

# The list's state filter: open cases (anything not closed) unless asked otherwise.
OPEN = "open"
ALL = "all"


def _visible_follow_ups(user) -> QuerySet[FollowUp]:
    return policy.at_operated_shelters(user, FollowUp.objects.all())


def _with_history(follow_ups: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    return follow_ups.select_related("evacuee", "shelter", "response").prefetch_related(
        Prefetch("changes", queryset=FollowUpChange.objects.select_related("changed_by").order_by("changed_at", "id"))
    )


def follow_ups_for_list(
    *,
    user,
    purpose: str,
    shelter_id: int | None = None,
    state: str = OPEN,
    paginate: Callable[[QuerySet], Sequence] | None = None,
) -> Sequence[FollowUp]:
    """The cases the user may see, with names, shelters and history, oldest first; logged per person."""
    follow_ups = _visible_follow_ups(user)
    if shelter_id is not None:
        follow_ups = follow_ups.filter(shelter_id=shelter_id)
    if state == OPEN:
        follow_ups = follow_ups.exclude(state=FollowUpState.CLOSED)
    elif state != ALL:
        follow_ups = follow_ups.filter(state=state)
    follow_ups = _with_history(follow_ups).order_by("created_at", "id")
    page = paginate(follow_ups) if paginate is not None else list(follow_ups)
    _shown(user, page, purpose=purpose)
    return page


def access_follow_up_by_id(user, follow_up_id: int | str, *, purpose: str | None) -> FollowUp:
    """One case with its history; NotVisible unless the user may see it. Logged unless `purpose`
    is None, which only a re-read of a case just logged in the same request may pass."""
    follow_up_id = object_id(follow_up_id, field="follow_up")
    follow_up = _with_history(_visible_follow_ups(user)).filter(pk=follow_up_id).first()
    if follow_up is None:
        raise NotVisible(field="follow_up")
    _shown(user, [follow_up], purpose=purpose)
    return follow_up


_CATEGORIES = (*consent.PERSON_CATEGORIES, Category.SURVEY)


def _shown(user, follow_ups, *, purpose: str | None) -> dict:
    """A case comes from the person's survey answers: without a basis for those, the case shows
    neither the person nor the score (`withheld` set), only that a case exists."""
    verdicts = consent.shown(user, [f.evacuee for f in follow_ups], purpose=purpose, categories=_CATEGORIES)
    for follow_up in follow_ups:
        verdict = verdicts[follow_up.evacuee_id]
        follow_up.withheld = not verdict.allows(Category.SURVEY)
        if follow_up.withheld:
            reason = verdict.withheld[Category.SURVEY]
            consent.withhold_all(follow_up.evacuee, reason=reason)
            follow_up.evacuee.withheld[Category.SURVEY] = reason
            follow_up.k6_score = None
    return verdicts


def shelter_follow_up_list(*, user, shelter_id: int, purpose: str) -> list[dict] | None:
    """A shelter's open cases for its dashboard, with names, for those who may see them; else None.

    Name and state only: the score is on the follow-up page.
    """
    if not policy.may_see_names_at(user, shelter_id) or not policy.may_handle_follow_ups(user):
        return None
    follow_ups = (
        _visible_follow_ups(user)
        .filter(shelter_id=shelter_id)
        .exclude(state=FollowUpState.CLOSED)
        .select_related("evacuee")
        .order_by("created_at", "id")
    )
    follow_ups = list(follow_ups)
    _shown(user, follow_ups, purpose=purpose)
    return [
        {
            "id": follow_up.pk,
            "name": follow_up.evacuee.name,
            "name_kana": follow_up.evacuee.name_kana,
            "state": follow_up.state,
            "since": follow_up.created_at.isoformat(),
            # A case whose person or answers are withheld from this reader is still listed (the
            # count counts it), without the name, and says why.
            "withheld": dict(follow_up.evacuee.withheld),
        }
        for follow_up in follow_ups
    ]
