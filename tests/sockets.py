"""Test sockets on the in-memory channel layer: one router over every registered stream kind."""

import json

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from realtime.routing import websocket_urlpatterns

router = URLRouter(websocket_urlpatterns)


async def connect(path: str, user) -> WebsocketCommunicator:
    """A socket of `user` on `path`, connected (the test fails if it is refused)."""
    communicator = WebsocketCommunicator(router, path)
    communicator.scope["user"] = user
    connected, _code = await communicator.connect()
    assert connected
    return communicator


async def receive(communicator: WebsocketCommunicator, timeout: float = 3) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))
