"""Reads for the follow-up list. The cases themselves come from `access.follow_ups`, which checks who
may see them and records each read; this module holds what the pages need besides."""

from django.db.models import QuerySet

from access import policy
from shelters.models import Shelter, User


def follow_up_shelters(*, user: User) -> QuerySet[Shelter]:
    """Shelters the user may filter the list by."""
    if not policy.may_handle_follow_ups(user):
        return Shelter.objects.none()
    return policy.operated_shelters(user).order_by("code")
