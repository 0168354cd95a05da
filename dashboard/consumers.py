"""WebSocket streams for the dashboards.

On connect a client is checked against the access policy, joins its stream (through the
process's hub, see realtime/hub.py) and gets a snapshot; then it receives every event of the
stream, already serialized once by the sender, alone or in a `batch` frame.
The client asks for a fresh snapshot (`{"action": "resync"}`) when it sees a gap in `seq`.

Async consumers: a wall of dashboards is thousands of idle sockets and a fan-out per event; the
few database reads (permission, snapshot) run in the thread pool.
"""

import asyncio
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from access import policy
from dashboard import selectors
from realtime import broadcast
from realtime.hub import hub
from realtime.wire import Frame, SocketWriter
from surveys import selectors as survey_selectors

FORBIDDEN = 4403
NAMED_LIST_DELAY = 0.5  # seconds: a burst of events refreshes a manager's named list once


# Events reach these sockets through the process's hub, never through a channel of their own:
# naming no configured layer spares each socket a Redis subscription and a pending receive.
NO_CHANNEL_LAYER = "dashboard-sockets-use-the-hub"


class StreamConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = NO_CHANNEL_LAYER
    stream: str | None = None
    writer: SocketWriter | None = None

    async def connect(self):
        user = self.scope.get("user")
        stream = await database_sync_to_async(self.authorized_stream)(user)
        if stream is None:
            # Refused before the handshake completes: the client gets HTTP 403.
            await self.close(code=FORBIDDEN)
            return
        self.stream = stream
        await hub().join(stream, self)
        await self.accept()
        await self.send_snapshot()
        # From here on the hub may write frames straight to the socket (after the snapshot).
        self.writer = SocketWriter.for_send(self.base_send)

    async def disconnect(self, code):
        if self.stream is not None:
            hub().leave(self.stream, self)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = json.loads(text_data or "{}")
        except ValueError:
            return
        if message.get("action") == "resync":
            await self.send_snapshot()

    def deliver_now(self, frame: Frame) -> bool:
        """The hub's fast path: write the frame without awaiting; False if `deliver` must do it."""
        if self.writer is None or not self.writer.write(frame):
            return False
        self.delivered(frame.texts)
        return True

    async def deliver(self, frame: Frame) -> None:
        """The hub's ordinary path, through the ASGI send."""
        await self.send(text_data=frame.text)
        self.delivered(frame.texts)

    def delivered(self, texts: list[str]) -> None:
        """Called after each frame reached the socket; subclasses react to what it held."""

    async def send_snapshot(self):
        message = await database_sync_to_async(self.snapshot)()
        await self.send(text_data=json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str))

    def snapshot(self) -> dict:
        # The sequence number is read before the data, so anything the snapshot might have missed
        # arrives afterwards with a higher number (and shelter versions make repeats harmless).
        seq = selectors.current_seq(self.stream)
        return selectors.snapshot_message(stream=self.stream, data=self.snapshot_data(), seq=seq)

    def authorized_stream(self, user) -> str | None:
        raise NotImplementedError

    def snapshot_data(self) -> dict:
        raise NotImplementedError


class CityConsumer(StreamConsumer):
    """Every shelter's figures, for HQ and officials."""

    def authorized_stream(self, user):
        return broadcast.CITY_STREAM if user is not None and policy.can_watch_city(user) else None

    def snapshot_data(self):
        return selectors.city_snapshot()


class ShelterConsumer(StreamConsumer):
    """One shelter: its figures, notifications, and for its own managers the lists with names.

    Events on a shelter's stream carry figures only, since officials may watch it too. A socket
    whose user may see names fetches the named list an event concerns itself, once per burst.
    """

    # Event (as its envelope starts) -> the named list to send: (message type, data key, selector).
    NAMED_LISTS = {
        '{"type":"shelter.updated"': ("support_list", "support_list", selectors.support_list),
        '{"type":"follow_ups.changed"': ("follow_up_list", "follow_ups", survey_selectors.shelter_follow_ups),
    }

    shows_names = False
    _list_tasks: dict | None = None

    def authorized_stream(self, user):
        shelter_id = self.scope["url_route"]["kwargs"]["shelter_id"]
        if user is None or not policy.can_watch_shelter(user, shelter_id):
            return None
        self.shelter_id = shelter_id
        self.shows_names = policy.may_see_names_at(user, shelter_id)
        return broadcast.shelter_stream(shelter_id)

    def snapshot_data(self):
        return selectors.shelter_snapshot(user=self.scope["user"], shelter_id=self.shelter_id)

    def delivered(self, texts):
        if not self.shows_names:
            return
        for prefix, named_list in self.NAMED_LISTS.items():
            if any(text.startswith(prefix) for text in texts):
                self._send_list_soon(*named_list)

    def _send_list_soon(self, message_type: str, key: str, selector) -> None:
        tasks = self._list_tasks = self._list_tasks or {}
        task = tasks.get(message_type)
        if task is None or task.done():
            tasks[message_type] = asyncio.ensure_future(self._send_list_later(message_type, key, selector))

    async def _send_list_later(self, message_type: str, key: str, selector) -> None:
        await asyncio.sleep(NAMED_LIST_DELAY)
        items = await database_sync_to_async(selector)(user=self.scope["user"], shelter_id=self.shelter_id)
        await self.send(text_data=json.dumps({"type": message_type, "data": {key: items}}, ensure_ascii=False))

    async def disconnect(self, code):
        for task in (self._list_tasks or {}).values():
            task.cancel()
        await super().disconnect(code)
