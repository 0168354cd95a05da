from django.apps import AppConfig
from django.conf import settings
from django.core import checks
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
        checks.register(heartbeat_pace_check)


def heartbeat_pace_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """A heartbeat of 0 s would spin every server's loop; caught at start-up, not at 3 a.m."""
    if settings.REALTIME_HEARTBEAT_SECONDS >= 1:
        return []
    return [
        checks.Error(
            f"REALTIME_HEARTBEAT_SECONDS is {settings.REALTIME_HEARTBEAT_SECONDS}: it must be at least 1.",
            hint="Pages say 'stale' after about twice this many seconds without news; 3 is the default.",
            id="realtime.E001",
        )
    ]
