from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    """The consent ledger and legal-basis releases; enforced by the access layer."""

    name = "consent"
    verbose_name = _("Consent")
    default_auto_field = "django.db.models.BigAutoField"
