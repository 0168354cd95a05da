"""The realtime app's own control events: not for browsers, for the servers' sockets.

- `user.rights_changed` on the `control` stream: {"user": id, "session": hash | None}. A user's
  rights may have changed (logged out, deactivated, a new role, a shelter gained or lost). Every
  server process hears it once and re-authorises that user's sockets (realtime/consumers.py);
  `session` is the SHA-256 of the session key that just logged out, whose sockets close at once.

Send it with `rights_changed(user_id)` from any code that changes what a user may see: it goes
out after the transaction commits, so the sockets re-read the committed rights.
"""

import hashlib
from typing import TypedDict

from realtime import broadcast, catalogue, coalesce

CONTROL_STREAM = "control"


class RightsChanged(TypedDict):
    user: int
    session: str | None


USER_RIGHTS_CHANGED = catalogue.register(
    "user.rights_changed",
    RightsChanged,
    streams=(CONTROL_STREAM,),
    description="A user's rights may have changed: their sockets re-check them.",
)


def session_fingerprint(session_key: str | None) -> str | None:
    """What the control stream says about a session: never the key itself, which is a credential."""
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()


def rights_changed(user_id: int, *, ended_session_key: str | None = None) -> None:
    """Tell every server that this user's open sockets must re-check their rights, after commit.

    Once per user per transaction, however many of their rows it changed (a role and shelters
    edited together are one re-check); a logout's session is kept when it is among them.
    """
    session = session_fingerprint(ended_session_key)
    pending = coalesce.collector("_pending_rights_changes", factory=dict, send=_send_rights_changes)
    if pending is None:
        _send_rights_changes({user_id: session})
    else:
        pending[user_id] = pending.get(user_id) or session


def _send_rights_changes(sessions: dict[int, str | None]) -> None:
    for user_id, session in sessions.items():
        data: RightsChanged = {"user": user_id, "session": session}
        broadcast.send(event_type=USER_RIGHTS_CHANGED, streams=[CONTROL_STREAM], data=data)


def on_logged_out(sender, request, user, **kwargs) -> None:
    """Logging out closes the sockets opened with that session, on every server (user_logged_out)."""
    if user is None:
        return
    session = getattr(request, "session", None)
    rights_changed(user.pk, ended_session_key=getattr(session, "session_key", None))
