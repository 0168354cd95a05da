"""Supply requests, which may name a person: the only code that filters them for a reader.

HQ sees every request, a shelter's managers that shelter's, officials none (they watch tasks and
the board: figures, never a person). A request that names a person is logged as a read of that
person when shown. An open request (not yet planned) follows its person to a new shelter
(`supply.services.requests_follow_person`); a planned one stays with the delivery it is in.
"""

from collections.abc import Callable, Sequence

from django.db.models import QuerySet

from access import consent, policy
from access.errors import NotVisible, object_id
from consent.rules import Category
from supply.models import Request


def _visible_requests(user) -> QuerySet[Request]:
    return policy.at_operated_shelters(user, Request.objects.all())


def supply_requests_for_list(
    *,
    user,
    purpose: str,
    shelter_id: int | None = None,
    paginate: Callable[[QuerySet], Sequence] | None = None,
    limit: int = 200,
) -> Sequence[Request]:
    """Requests the user may follow, newest first, with item and task; each person named is logged."""
    if not policy.may_see_personal_data(user):
        return []
    requests = _visible_requests(user).select_related("item", "task", "evacuee").order_by("-created_at", "-id")
    if shelter_id is not None:
        requests = requests.filter(shelter_id=shelter_id)
    page = paginate(requests) if paginate is not None else list(requests[:limit])
    _shown(user, page, purpose=purpose)
    return page


def access_supply_request_by_id(user, request_id: int | str, *, purpose: str) -> Request:
    """One request the user may follow; NotVisible otherwise. Logged when it names a person."""
    request_id = object_id(request_id, field="request")
    found = _visible_requests(user).select_related("item", "task", "evacuee").filter(pk=request_id).first()
    if found is None or not policy.may_see_personal_data(user):
        raise NotVisible(field="request")
    _shown(user, [found], purpose=purpose)
    return found


def _shown(user, requests: Sequence[Request], *, purpose: str) -> None:
    """A request for a person says what they need: recorded as a read of their support needs, under
    its basis, like every other read (`access.consent`)."""
    consent.shown(user, [r.evacuee for r in requests], purpose=purpose, categories=[Category.SUPPORT])
