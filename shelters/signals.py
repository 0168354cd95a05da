"""Open sockets learn when their user's rights change (realtime/events.py `rights_changed`).

Signals rather than a service: a user's active flag, role and managed shelters are edited in the
admin (and by `createsuperuser`, fixtures, tests), and every such write must reach the sockets.
The receivers only announce the change, after commit; the sockets re-read the rights themselves.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from realtime.events import rights_changed
from shelters.models import User

# Saves that change nothing a socket checks: a login stamps `last_login`.
_IRRELEVANT = frozenset({"last_login"})


def user_saved(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and set(update_fields) <= _IRRELEVANT):
        return
    rights_changed(instance.pk)


def user_deleted(sender, instance: User, **kwargs) -> None:
    rights_changed(instance.pk)


def managed_shelters_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if action == "pre_clear" and reverse:
        # shelter.managers.clear(): who the managers were is gone after the clear.
        instance._managers_before_clear = list(instance.managers.values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        user_ids = [instance.pk]  # user.managed_shelters.add/remove/clear/set
    elif action == "post_clear":
        user_ids = getattr(instance, "_managers_before_clear", [])
    else:
        user_ids = sorted(pk_set or ())  # shelter.managers.add/remove/set
    for user_id in user_ids:
        rights_changed(user_id)


def shelter_deleting(sender, instance, **kwargs) -> None:
    # Deleting a shelter removes its managers' rows without an m2m signal.
    for user_id in instance.managers.values_list("pk", flat=True):
        rights_changed(user_id)


def connect() -> None:
    from shelters.models import Shelter

    post_save.connect(user_saved, sender=User, dispatch_uid="shelters.user_saved")
    post_delete.connect(user_deleted, sender=User, dispatch_uid="shelters.user_deleted")
    m2m_changed.connect(
        managed_shelters_changed, sender=User.managed_shelters.through, dispatch_uid="shelters.managed_shelters"
    )
    pre_delete.connect(shelter_deleting, sender=Shelter, dispatch_uid="shelters.shelter_deleting")
