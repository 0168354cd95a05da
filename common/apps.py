from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    """What belongs to no domain: errors, roles, the audit trail, permission and admin helpers."""

    name = "common"
    verbose_name = _("Common")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The lockout audit listens to django-axes' signal.
        from common import lockouts  # noqa: F401
