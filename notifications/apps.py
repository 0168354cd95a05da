from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Messages for a shelter's dashboard, written by the supply and survey services.

    Its own app, below every domain that writes one: the dashboard pages only show them.
    """

    name = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from common.sources import source_rows_register
        from notifications.sources import notification_rows_remove

        source_rows_register(app="notifications", depends_on=("shelters",), remove=notification_rows_remove)
