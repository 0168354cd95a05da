from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    """The one gate to personal data: who may see which person, and the record of every read."""

    name = "access"
    verbose_name = _("Access to personal data")
    default_auto_field = "django.db.models.BigAutoField"
