"""Listening to the in-memory channel layer of the unit tests, as a dashboard socket would."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime import broadcast


class Listener:
    def __init__(self, streams: list[str]):
        self.layer = get_channel_layer()
        self.groups = [broadcast.group_name(stream) for stream in streams]
        self.channel = async_to_sync(self.layer.new_channel)()
        for group in self.groups:
            async_to_sync(self.layer.group_add)(group, self.channel)

    def heard(self) -> list[dict]:
        """Every event sent to the streams since the last call, as the envelopes' JSON."""
        queue = self.layer.channels.get(self.channel)
        events = []
        while queue is not None and not queue.empty():
            _expiry, message = queue.get_nowait()
            events.append(json.loads(message["text"]))
        return events

    def close(self) -> None:
        for group in self.groups:
            async_to_sync(self.layer.group_discard)(group, self.channel)


@pytest.fixture
def listen():
    """listen(*streams) -> a Listener on those streams, closed after the test."""
    listeners = []

    def start(*streams: str) -> Listener:
        listener = Listener(list(streams))
        listeners.append(listener)
        return listener

    yield start
    for listener in listeners:
        listener.close()
