from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class RealtimeConfig(AppConfig):
    """Live streams over WebSockets: broadcast after commit, the per-process hub, the fast write
    path, the consumer, the registry of stream kinds and the catalogue of events.

    This package imports no domain code: each app declares its event types in its `events.py`
    (realtime/catalogue.py) and its streams in its `streams.py` (realtime/streams.py); both modules
    of every installed app are imported here, once every app's models are loaded.
    """

    name = "realtime"
    verbose_name = _("Live streams")

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from realtime import events

        autodiscover_modules("events")
        autodiscover_modules("streams")
        user_logged_out.connect(events.on_logged_out, dispatch_uid="realtime.on_logged_out")
