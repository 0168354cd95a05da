"""The WebSocket routes: one per registered stream kind (realtime/streams.py), all served by StreamConsumer."""

from django.urls import path

from realtime import streams
from realtime.consumers import StreamConsumer


def stream_urlpatterns() -> list:
    return [path(kind.route, StreamConsumer.as_asgi(kind_name=kind.name)) for kind in streams.stream_kinds()]


# Imported once the apps are ready (config/asgi.py sets Django up first), so every app's streams are in.
websocket_urlpatterns = stream_urlpatterns()
