from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupplyConfig(AppConfig):
    """Supplies: the item catalogue and shelters' requests (later: depots, stock, supply tasks)."""

    name = "supply"
    label = "supply"
    verbose_name = _("Supplies")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from shelters.services.moves import register_person_moved_handler
        from supply.services import requests_follow_person

        register_person_moved_handler(requests_follow_person)
