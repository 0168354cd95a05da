import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# Django must be set up before anything imports models (the consumers do).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter

from common.asgi import ConnectionsReturned
from realtime.auth import SocketAuthMiddlewareStack
from realtime.origin import SameOriginValidator
from realtime.routing import websocket_urlpatterns

application = ProtocolTypeRouter(
    {
        # Database connections go back to the pool even when the client or daphne gives up on a request.
        "http": ConnectionsReturned(django_asgi_app),
        "websocket": SameOriginValidator(SocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
