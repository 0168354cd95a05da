from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RealtimeConfig(AppConfig):
    """Live streams over WebSockets: broadcast after commit, the per-process hub, the fast write
    path and the consumers' base. Apps register their streams; this package imports no domain code."""

    name = "realtime"
    verbose_name = _("Live streams")
