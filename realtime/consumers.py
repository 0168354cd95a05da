"""The one WebSocket consumer behind every stream kind (realtime/streams.py).

On connect a socket is checked against its stream kind's `can_join`, joins its stream (through
the process's hub, see realtime/hub.py) and gets a snapshot; then it receives every event of the
stream, already serialized once by the sender, alone or in a `batch` frame, and a heartbeat every
few seconds (realtime/hub.py). The client asks for a fresh snapshot (`{"action": "resync"}`) when
it sees a gap in `seq`, another `epoch` than its snapshot's, or hears nothing for a while.

Rights are not checked once only. Each socket is known to its process by its user, and every
process listens to the `control` stream: when a user's rights may have changed (logout,
deactivation, a new role, a shelter gained or lost: realtime/events.py `rights_changed`), each of
that user's sockets re-reads the user through its session and checks again. It closes with
4401 (signed out, or the account is no longer active) or 4403 (may no longer watch this stream),
or carries on with what the user may now see. The same check runs before each named list (names)
is sent and before each snapshot after the first, so a stale socket never gets a name, even before
the control event arrives.

Async consumers: a wall of dashboards is thousands of idle sockets and a fan-out per event; the
few database reads (session, permission, snapshot) run in the thread pool, several at a time
(realtime/threads.py), and the snapshot's shared half is built once per stream position
(realtime/snapshots.py).
"""

import asyncio
import json
import logging
import weakref
from collections import defaultdict
from importlib import import_module
from types import SimpleNamespace

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib import auth

from realtime import broadcast, streams
from realtime.events import CONTROL_STREAM, USER_RIGHTS_CHANGED, session_fingerprint
from realtime.hub import hub
from realtime.snapshots import SharedHalf, shared_snapshots
from realtime.threads import in_pool
from realtime.wire import Frame, SocketWriter

logger = logging.getLogger(__name__)

SIGNED_OUT = 4401  # the session ended, or the account is no longer active
FORBIDDEN = 4403  # the user may not (or no longer) watch this stream
NAMED_LIST_DELAY = 0.5  # seconds: a burst of events refreshes a manager's named list once

# Events reach these sockets through the process's hub, never through a channel of their own:
# naming no configured layer spares each socket a Redis subscription and a pending receive.
NO_CHANNEL_LAYER = "dashboard-sockets-use-the-hub"


def snapshot_frame(*, stream: str, position: broadcast.Position, shared: SharedHalf, personal: dict) -> str:
    """The snapshot frame (catalogue.Snapshot): the data, where the stream was, the heartbeat's pace.

    The data's shared half comes already serialised (realtime/snapshots.py); only the header and the
    user's own half are serialised here, per socket."""
    overlap = shared.keys & personal.keys()
    if overlap:
        raise ValueError(f"stream {stream}: {sorted(overlap)} are both shared and per user")
    head = {
        "type": "snapshot",
        "stream": stream,
        "epoch": position.epoch,
        "seq": position.seq,
        "heartbeat_seconds": settings.REALTIME_HEARTBEAT_SECONDS,
    }
    members = ",".join(part for part in (shared.members, _dumps(personal)[1:-1] if personal else "") if part)
    return _dumps(head)[:-1] + ',"data":{' + members + "}}"


def _dumps(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str)


class StreamConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = NO_CHANNEL_LAYER
    kind_name: str = ""  # set per route by realtime/routing.py
    stream: str | None = None
    writer: SocketWriter | None = None
    shows_names = False
    revoked = False
    _list_tasks: dict | None = None
    _recheck: asyncio.Task | None = None

    def __init__(self, *args, kind_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind_name = kind_name or self.kind_name

    async def dispatch(self, message):
        """As channels' own, without its `aclose_old_connections` before every message: a hop to the
        one shared sync thread per socket per message, for connections this consumer never leaves
        open (each of its reads closes its own: realtime/threads.py)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- Connecting -----------------------------------------------------------------------------

    async def connect(self):
        self.kind = streams.stream_kind(self.kind_name)
        self.key = self.kind.key_from(self.scope["url_route"]["kwargs"])
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=FORBIDDEN)  # before the handshake: the client gets HTTP 403
            return
        self.user_id = user.pk
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None) if session is not None else None
        self.session_fingerprint = session_fingerprint(self.session_key)
        if await in_pool(self.refused)(user) is not None:
            await self.close(code=FORBIDDEN)
            return
        self.stream = self.kind.stream_name(self.key)
        # Known as this user's before the first read, so a change from now on reaches it.
        await user_sockets().add(self)
        await hub().join(self.stream, self)
        await self.accept()
        await self.send_snapshot(user)
        # From here on the hub may write frames straight to the socket (after the snapshot).
        if not self.revoked:
            self.writer = SocketWriter.for_send(self.base_send)

    async def disconnect(self, code):
        self._leave()

    def _leave(self) -> None:
        self.writer = None
        if self.stream is not None:
            hub().leave(self.stream, self)
            user_sockets().remove(self)
        for task in (self._list_tasks or {}).values():
            task.cancel()

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = json.loads(text_data or "{}")
        except ValueError:
            return
        if message.get("action") == "resync":
            await self.send_snapshot()

    # --- Rights ---------------------------------------------------------------------------------

    def current_user(self):
        """The user as the database has them now, through the socket's session; None if signed out.

        Runs in the thread pool. Django's `get_user` re-reads the row, refuses an inactive account
        (ModelBackend) and a session whose password hash no longer matches. A socket without a
        session (the test communicator) re-reads its user's row.
        """
        if self.session_key is not None:
            store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=self.session_key)
            user = auth.get_user(SimpleNamespace(session=store))
            return user if user.is_authenticated and user.pk == self.user_id else None
        user = auth.get_user_model().objects.filter(pk=self.user_id).first()
        return user if user is not None and user.is_active else None

    def refused(self, user) -> int | None:
        """The close code if `user` may not watch this stream; else None, noting what they may see."""
        if user is None:
            return SIGNED_OUT
        if not self.kind.can_join(user, self.key):
            return FORBIDDEN
        self.user = user
        self.shows_names = self.kind.shows_names(user, self.key)
        return None

    def rights_changed(self, ended_session: str | None) -> None:
        """The control stream says this socket's user may have lost rights: check again, now."""
        if self.revoked:
            return
        if ended_session is not None and ended_session == self.session_fingerprint:
            self._recheck = asyncio.ensure_future(self.revoke(SIGNED_OUT))
            return
        if self._recheck is None or self._recheck.done():
            self._recheck = asyncio.ensure_future(self.recheck())

    async def recheck(self) -> None:
        showed_names = self.shows_names
        code = await in_pool(self._recheck_in_thread)()
        if code is not None:
            await self.revoke(code)
        elif showed_names and not self.shows_names:
            await self.send_snapshot()  # the same stream without the names it had

    def _recheck_in_thread(self) -> int | None:
        return self.refused(self.current_user())

    async def revoke(self, code: int) -> None:
        """Stop sending at once, then close the socket."""
        if self.revoked:
            return
        self.revoked = True
        self._leave()
        await self.close(code=code)

    # --- Sending --------------------------------------------------------------------------------

    def deliver_now(self, frame: Frame) -> bool:
        """The hub's fast path: write the frame without awaiting; False if `deliver` must do it."""
        if self.revoked:
            return True
        if self.writer is None or not self.writer.write(frame):
            return False
        self.delivered(frame)
        return True

    async def deliver(self, frame: Frame) -> None:
        """The hub's ordinary path, through the ASGI send."""
        if self.revoked:
            return
        await self.send(text_data=frame.text)
        self.delivered(frame)

    def delivered(self, frame: Frame) -> None:
        """After each frame: a socket that shows names refreshes the named lists its events concern."""
        if not self.shows_names:
            return
        types = getattr(frame, "types", frozenset())
        for named_list in self.kind.named_lists():
            if named_list.refreshed_by & types:
                self._send_list_soon(named_list)

    async def send_snapshot(self, user=None) -> None:
        """The snapshot; `user` is the one just authorised on connect, else the rights are re-read.

        The user's own half is built per socket; the shared half is the one the process built for
        this stream at this position, whoever asked first (realtime/snapshots.py)."""
        code, position, personal = await in_pool(self._snapshot_in_thread)(user)
        if code is not None:
            await self.revoke(code)
            return
        shared = await shared_snapshots().half(self.kind, self.key, self.stream, position)
        if not self.revoked:
            text = snapshot_frame(stream=self.stream, position=position, shared=shared, personal=personal)
            await self.send(text_data=text)

    def _snapshot_in_thread(self, user) -> tuple[int | None, broadcast.Position | None, dict | None]:
        if user is None:
            code = self.refused(self.current_user())
            if code is not None:
                return code, None, None
        # The sequence number is read before the data (both halves), so anything the snapshot might
        # have missed arrives afterwards with a higher number (and shelter versions make repeats
        # harmless).
        position = broadcast.stream_position(self.stream)
        personal = self.kind.personal_data(self.user, self.key) if self.kind.has_personal_data else {}
        return None, position, personal

    def _send_list_soon(self, named_list: streams.NamedList) -> None:
        tasks = self._list_tasks = self._list_tasks or {}
        task = tasks.get(named_list.message_type)
        if task is None or task.done():
            tasks[named_list.message_type] = asyncio.ensure_future(self._send_list_later(named_list))

    async def _send_list_later(self, named_list: streams.NamedList) -> None:
        await asyncio.sleep(NAMED_LIST_DELAY)
        code, items = await in_pool(self._list_in_thread)(named_list)
        if code is not None:
            await self.revoke(code)
        elif items is not None and not self.revoked:
            await self.send(text_data=_dumps({"type": named_list.message_type, "data": {named_list.key: items}}))

    def _list_in_thread(self, named_list: streams.NamedList) -> tuple[int | None, list | None]:
        # Names only to a user who still may see them: re-read before every list, not only on connect.
        code = self.refused(self.current_user())
        if code is not None or not self.shows_names:
            return code, None
        return None, named_list.fetch(self.user, self.key)


class UserSockets:
    """A process's open sockets by user, listening to the control stream for rights changes."""

    def __init__(self):
        self.by_user: dict[int, set[StreamConsumer]] = defaultdict(set)

    async def add(self, consumer: StreamConsumer) -> None:
        self.by_user[consumer.user_id].add(consumer)
        await hub().join(CONTROL_STREAM, self)

    def remove(self, consumer: StreamConsumer) -> None:
        sockets = self.by_user.get(consumer.user_id)
        if sockets is not None:
            sockets.discard(consumer)
            if not sockets:
                del self.by_user[consumer.user_id]

    def deliver_now(self, frame: Frame) -> bool:
        for text in frame.texts:
            event = json.loads(text)
            if event.get("type") != USER_RIGHTS_CHANGED:
                continue
            for consumer in list(self.by_user.get(event["data"]["user"], ())):
                consumer.rights_changed(event["data"]["session"])
        return True


_user_sockets: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, UserSockets]" = weakref.WeakKeyDictionary()


def user_sockets() -> UserSockets:
    """The running event loop's sockets by user (a server has one loop; tests make a loop per test)."""
    loop = asyncio.get_running_loop()
    if loop not in _user_sockets:
        _user_sockets[loop] = UserSockets()
    return _user_sockets[loop]
