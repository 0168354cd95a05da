"""What surveys add to the live streams (realtime/streams.py): today's summary on the city stream;
on a shelter's stream the open follow-up count (suppressed for those who may not see names) and,
for those who may, the `follow_up_list` with names, sent again after each `follow_ups.changed`."""

from access import figures
from access import follow_ups as follow_up_access
from realtime import streams
from surveys import selectors
from surveys.events import FOLLOW_UPS_CHANGED
from surveys.suppression import suppress


def city_part(key) -> dict:
    """Suppressed for everyone alike, so the same for every user: a shared part."""
    return {"surveys": selectors.city_survey_summary()}


def shelter_part(user, shelter_id: int) -> dict:
    open_count = figures.open_follow_up_counts(shelter_ids=[shelter_id]).get(shelter_id, 0)
    return {
        # The list with names for those who may see them (None for the others).
        "follow_ups": follow_up_access.shelter_follow_up_list(
            user=user, shelter_id=shelter_id, purpose="socket.shelter_snapshot"
        ),
        # Suppressed for everyone, as `follow_ups.changed` carries it: snapshot + events = snapshot.
        # Those who see the list count it themselves.
        "open_follow_ups": suppress(open_count),
    }


streams.add_shared_snapshot_part("city", city_part)
streams.add_snapshot_part("shelter", shelter_part)
streams.add_named_list(
    "shelter",
    message_type="follow_up_list",
    key="follow_ups",
    fetch=lambda user, shelter_id: follow_up_access.shelter_follow_up_list(
        user=user, shelter_id=shelter_id, purpose="socket.follow_up_list"
    ),
    refreshed_by={FOLLOW_UPS_CHANGED},
)
