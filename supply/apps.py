from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupplyConfig(AppConfig):
    """Supplies: the item catalogue and shelters' requests (later: depots, stock, supply tasks)."""

    name = "supply"
    label = "supply"
    verbose_name = _("Supplies")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from common.sources import source_rows_register
        from shelters.services.moves import register_person_moved_handler
        from shelters.services.retention import register_person_anonymised_handler
        from supply.services import requests_anonymise_person, requests_follow_person, requests_open_for_person
        from supply.sources import supply_rows_remove, supply_sample_load

        # Requests refer to shelters, people and survey answers.
        source_rows_register(
            app="supply",
            depends_on=("shelters", "surveys"),
            remove=supply_rows_remove,
            load_sample=supply_sample_load,
        )
        register_person_moved_handler(requests_follow_person, pending=requests_open_for_person)
        register_person_anonymised_handler(requests_anonymise_person)
