"""Writes to user accounts: who someone is, what role they have and which shelters they run.

The admin calls these; each writes under the user's row lock and leaves an audit entry that names
the fields changed, never their values (an e-mail address or a password is not for the log).
"""

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.changes import apply_changes, pks, refuse_unknown_fields
from common.errors import ApplicationError
from common.roles import Role
from shelters.models import Shelter, User

# Account fields a person edits on the account page; role and shelters go through user_roles_update.
ACCOUNT_FIELDS = frozenset(
    {
        "username",
        "first_name",
        "last_name",
        "email",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    }
)
MANY_TO_MANY = ("groups", "user_permissions")


def _lock_user(user_id: int) -> User:
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise ApplicationError(_("User not found."), code="not_found", status_code=404)
    return user


@transaction.atomic
def user_create(*, username: str, password: str | None, actor: User | None) -> User:
    """A new account with no role: it can log in but sees nothing until it is given one."""
    username = username.strip()
    if not username:
        raise ApplicationError(_("Enter a username."), field="username")
    if User.objects.filter(username=username).exists():
        raise ApplicationError(_("This username is taken."), code="duplicate", field="username")
    user = User(username=username)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit_record(actor=actor, action="user.create", object_type="user", object_id=user.pk)
    return user


@transaction.atomic
def user_update(*, user_id: int, changes: dict, actor: User | None) -> User:
    """Change account fields (names, e-mail, active, staff, groups, permissions)."""
    refuse_unknown_fields(changes, ACCOUNT_FIELDS)
    user = _lock_user(user_id)
    changed: list[str] = []
    for name in MANY_TO_MANY:
        if name in changes:
            wanted = pks(changes[name])
            related = getattr(user, name)
            if wanted != set(related.values_list("pk", flat=True)):
                related.set(wanted)
                changed.append(name)
    fields = apply_changes(user, {name: value for name, value in changes.items() if name not in MANY_TO_MANY})
    if fields:
        user.save(update_fields=fields)
        changed += fields
    if changed:
        audit_record(
            actor=actor,
            action="user.update",
            object_type="user",
            object_id=user.pk,
            details={"fields": sorted(changed)},
        )
    return user


@transaction.atomic
def user_roles_update(*, user_id: int, role: str, managed_shelter_ids: Iterable[int], actor: User | None) -> User:
    """Give a user a role and the shelters they manage, and record what changed."""
    if role not in (*Role.values, ""):
        raise ApplicationError(_("Unknown role."), field="role")
    wanted = pks(managed_shelter_ids)
    if Shelter.objects.filter(pk__in=wanted).count() != len(wanted):
        raise ApplicationError(_("Shelter not found."), code="not_found", field="managed_shelters")
    user = _lock_user(user_id)
    before = set(user.managed_shelters.values_list("pk", flat=True))
    details: dict = {}
    if user.role != role:
        details |= {"from_role": user.role, "to_role": role}
        user.role = role
        user.save(update_fields=["role"])
    if wanted != before:
        user.managed_shelters.set(wanted)
        details |= {"added_shelters": sorted(wanted - before), "removed_shelters": sorted(before - wanted)}
    if details:
        audit_record(actor=actor, action="user.roles_update", object_type="user", object_id=user.pk, details=details)
    return user


@transaction.atomic
def user_password_set(*, user_id: int, password: str | None, actor: User | None) -> User:
    """Set a new password, or (None) turn password login off for the account."""
    user = _lock_user(user_id)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        action="user.password_set" if password else "user.password_unset",
        object_type="user",
        object_id=user.pk,
    )
    return user
