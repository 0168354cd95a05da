"""`verify_action`, as Zulip's (zerver/tests/test_events.py): a snapshot taken before an action,
plus the events and named lists the action sent, applied as the browser applies them, must equal a
fresh snapshot taken after it. `apply` is a port of the dashboards' scripts (static/js/live.js,
hq_dashboard.js, shelter_dashboard.js, supply_board.js); change both together.
"""

import json
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from realtime.routing import websocket_urlpatterns

router = URLRouter(websocket_urlpatterns)

QUIET = 1.0  # seconds without a frame: the action's events and named lists (sent 0.5 s later) are in


@dataclass
class Watcher:
    user: object
    path: str
    changes: bool = True  # False where the stream hears of the action but no snapshot shows it


def apply(state: dict, message: dict, *, seq: list[int], epoch: str) -> None:
    """One frame as the browser takes it; `seq` is the last number applied (a one-item list)."""
    kind = message["type"]
    if kind == "batch":
        for event in message["events"]:
            apply(state, event, seq=seq, epoch=epoch)
        return
    if kind == "heartbeat":
        return
    if "seq" in message:
        # live.js: another epoch would bring a resync; so would a gap; an event the snapshot
        # already holds is dropped.
        assert message["epoch"] == epoch, f"epoch {message['epoch']} after a snapshot of epoch {epoch}"
        if message["seq"] <= seq[0]:
            return
        assert message["seq"] == seq[0] + 1, f"a gap before {message['seq']} (last applied {seq[0]})"
        seq[0] = message["seq"]
    data = message["data"]
    if kind == "shelter.updated":  # Live.applyShelters: the newer version wins
        store = {shelter["id"]: shelter for shelter in state["shelters"]}
        for shelter in data["shelters"]:
            known = store.get(shelter["id"])
            if known is None or shelter["version"] >= known["version"]:
                store[shelter["id"]] = shelter
        state["shelters"] = list(store.values())
    elif kind == "replay.progress":
        state["replay"] = data["replay"]
    elif kind == "surveys.summary":
        state["surveys"] = data["surveys"]
    elif kind == "notification.created":
        state["notifications"].insert(0, data["notification"])
    elif kind == "follow_ups.changed":
        state["open_follow_ups"] = data["follow_ups"]["open"]
    elif kind == "support_list":
        state["support_list"] = data["support_list"]
    elif kind == "follow_up_list":
        state["follow_ups"] = data["follow_ups"]
    elif kind in ("supply.changed", "supply.overdue"):
        pass  # HQ's supply board loads the board again over HTTP; no snapshot holds it
    else:
        raise AssertionError(f"the client does not know what to do with {kind}")


def comparable(data: dict) -> dict:
    """The state as the page shows it: shelters are kept by id, not in a list order."""
    return {**data, "shelters": sorted(data["shelters"], key=lambda shelter: shelter["id"])}


async def _messages_until_quiet(socket) -> list[dict]:
    messages = []
    while not await socket.receive_nothing(timeout=QUIET):
        messages.append(json.loads(await socket.receive_from()))
    return messages


def verify_action(action, *watchers: Watcher) -> list[list[dict]]:
    """Run `action` while each watcher's socket is open; check snapshot + messages = fresh snapshot.

    Returns, per watcher, the messages the action sent it. Fails if a watcher heard nothing or its
    snapshot did not change: an action that a stream does not show needs no watcher there.
    """

    async def body():
        sockets, before = [], []
        for watcher in watchers:
            socket = WebsocketCommunicator(router, watcher.path)
            socket.scope["user"] = watcher.user
            connected, code = await socket.connect()
            assert connected, f"{watcher.path} refused {watcher.user}: {code}"
            sockets.append(socket)
            before.append(json.loads(await socket.receive_from(timeout=3)))
        await database_sync_to_async(action)()
        heard = [await _messages_until_quiet(socket) for socket in sockets]
        after = []
        for socket in sockets:
            await socket.send_to(text_data=json.dumps({"action": "resync"}))
            after.append(json.loads(await socket.receive_from(timeout=3)))
            await socket.disconnect()
        return before, heard, after

    before, heard, after = async_to_sync(body)()
    for watcher, snapshot, messages, fresh in zip(watchers, before, heard, after, strict=True):
        assert snapshot["type"] == fresh["type"] == "snapshot"
        assert messages, f"{watcher.path} heard nothing of the action"
        state = json.loads(json.dumps(snapshot["data"]))
        seq = [snapshot["seq"]]
        for message in messages:
            apply(state, message, seq=seq, epoch=snapshot["epoch"])
        if watcher.changes:
            assert comparable(snapshot["data"]) != comparable(fresh["data"]), f"{watcher.path} shows no change"
        assert comparable(state) == comparable(fresh["data"]), f"{watcher.path}: snapshot + events != fresh snapshot"
    return heard
