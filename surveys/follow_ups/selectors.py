"""Reads for the follow-up list. The cases themselves come from `access.follow_ups`, which checks who
may see them and records each read; this module holds what the pages need besides."""

from django.db.models import QuerySet

from access import follow_ups as follow_up_access
from access import policy
from access.figures import open_follow_up_counts
from shelters.models import Shelter, User

OPEN = follow_up_access.OPEN
ALL = follow_up_access.ALL

__all__ = ["ALL", "OPEN", "follow_up_shelters", "open_follow_up_counts", "shelter_follow_ups"]


def follow_up_shelters(*, user: User) -> QuerySet[Shelter]:
    """Shelters the user may filter the list by."""
    if not policy.may_handle_follow_ups(user):
        return Shelter.objects.none()
    return policy.operated_shelters(user).order_by("code")


def shelter_follow_ups(*, user: User, shelter_id: int, purpose: str = "socket.follow_up_list") -> list[dict] | None:
    """A shelter's open cases for its dashboard, with names, for those who may see them; else None."""
    return follow_up_access.shelter_follow_up_list(user=user, shelter_id=shelter_id, purpose=purpose)
