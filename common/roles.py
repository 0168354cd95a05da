"""Roles are project-wide: every app's pages, API and sockets ask the same questions of a user.

Who may see which person is the access layer's business (`access/`); this module only says what
role someone holds, so that `common`'s permission helpers need no domain code.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    HQ = "hq", _("Disaster HQ staff")
    MANAGER = "manager", _("Shelter manager")
    OFFICIAL = "official", _("City official")
    ADMIN = "admin", _("System administrator")


def role_of(user) -> str | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return user.role or None


def is_headquarters(user) -> bool:
    return role_of(user) in (Role.HQ, Role.ADMIN)


def is_staff_member(user) -> bool:
    """Anyone with a role may use the site at all."""
    return role_of(user) is not None
