"""The live streams shelters owns (registered with realtime/streams.py at start-up):

- `city` (`/ws/city/`): every shelter's figures and the replay's progress, for HQ and officials.
- `shelter` (`/ws/shelters/<id>/`): one shelter's figures for its managers, HQ and officials; for
  those who may see names there, the `support_list` of residents needing support, sent again after
  each `shelter.updated`.

Other apps add their parts to both (surveys/streams.py, notifications/streams.py).
"""

from access import people, policy
from realtime import broadcast, streams
from shelters.events import SHELTER_UPDATED, replay_state
from shelters.models import Shelter
from shelters.selectors import shelter_states


def city_snapshot(key) -> dict:
    """The same for everyone who may watch the city (no names, nothing cut per user): shared."""
    return {"shelters": shelter_states(shelters=Shelter.objects.all()), "replay": replay_state()}


def shelter_figures(shelter_id: int) -> dict:
    """A shelter's figures, the same for everyone who may watch it: shared."""
    return {"shelters": shelter_states(shelter_ids=[shelter_id])}


def shelter_support_list(user, shelter_id: int) -> dict:
    """The names needing support, for those who may see them (None for the others): per user."""
    return {"support_list": people.support_list(user=user, shelter_id=shelter_id, purpose="socket.shelter_snapshot")}


streams.register_stream(
    "city",
    route="ws/city/",
    stream_name=lambda key: broadcast.CITY_STREAM,
    can_join=lambda user, key: policy.can_watch_city(user),
    shared_snapshot=city_snapshot,
)
streams.register_stream(
    "shelter",
    route="ws/shelters/<int:shelter_id>/",
    route_key="shelter_id",
    stream_name=broadcast.shelter_stream,
    can_join=policy.can_watch_shelter,
    shows_names=policy.may_see_names_at,
    shared_snapshot=shelter_figures,
    snapshot=shelter_support_list,
)
streams.add_named_list(
    "shelter",
    message_type="support_list",
    key="support_list",
    fetch=lambda user, shelter_id: people.support_list(user=user, shelter_id=shelter_id, purpose="socket.support_list"),
    refreshed_by={SHELTER_UPDATED},
)
