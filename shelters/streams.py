"""The live streams shelters owns (registered with realtime/streams.py at start-up):

- `city` (`/ws/city/`): every shelter's figures and the replay's progress, for HQ and officials.
- `shelter` (`/ws/shelters/<id>/`): one shelter's figures for its managers, HQ and officials; for
  those who may see names there, the `support_list` of residents needing support, sent again after
  each `shelter.updated`.

Other apps add their parts to both (surveys/streams.py, notifications/streams.py).
"""

from django.db.models import Q

from access import policy
from realtime import broadcast, streams
from shelters.events import SHELTER_UPDATED, replay_state
from shelters.models import Shelter, User
from shelters.selectors import shelter_states


def support_list(*, user: User, shelter_id: int) -> list[dict] | None:
    """Residents of a shelter needing support, with names, for those who may see them; else None."""
    if not policy.may_see_names_at(user, shelter_id):
        return None
    stays = (
        policy.stays_visible_to(user)
        .filter(shelter_id=shelter_id, checked_out_at__isnull=True)
        .filter(Q(evacuee__support_needs__isnull=False) | Q(evacuee__requires_evacuation_support=True))
        .select_related("evacuee")
        .prefetch_related("evacuee__support_needs__category")
        .distinct()
        .order_by("evacuee__name_kana", "evacuee_id")
    )
    return [
        {
            "id": stay.evacuee_id,
            "name": stay.evacuee.name,
            "name_kana": stay.evacuee.name_kana,
            "mode": stay.mode,
            "requires_evacuation_support": stay.evacuee.requires_evacuation_support,
            "needs": [need.category.code for need in stay.evacuee.support_needs.all()],
        }
        for stay in stays
    ]


def city_snapshot(user, key) -> dict:
    return {"shelters": shelter_states(shelters=Shelter.objects.all()), "replay": replay_state()}


def shelter_snapshot(user, shelter_id: int) -> dict:
    return {
        "shelters": shelter_states(shelter_ids=[shelter_id]),
        "support_list": support_list(user=user, shelter_id=shelter_id),
    }


streams.register_stream(
    "city",
    route="ws/city/",
    stream_name=lambda key: broadcast.CITY_STREAM,
    can_join=lambda user, key: policy.can_watch_city(user),
    snapshot=city_snapshot,
)
streams.register_stream(
    "shelter",
    route="ws/shelters/<int:shelter_id>/",
    route_key="shelter_id",
    stream_name=broadcast.shelter_stream,
    can_join=policy.can_watch_shelter,
    shows_names=policy.may_see_names_at,
    snapshot=shelter_snapshot,
)
streams.add_named_list(
    "shelter",
    message_type="support_list",
    key="support_list",
    fetch=lambda user, shelter_id: support_list(user=user, shelter_id=shelter_id),
    refreshed_by={SHELTER_UPDATED},
)
