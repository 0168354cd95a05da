from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SheltersConfig(AppConfig):
    name = "shelters"
    verbose_name = _("Shelter operations")

    def ready(self):
        from common.sources import source_rows_register
        from consent.services import register_consent_changed_handler
        from shelters import signals
        from shelters.demo import shelters_sample_load
        from shelters.events import consent_changed_heard
        from shelters.sources import shelter_rows_remove

        signals.connect()
        # A changed consent or release refreshes the dashboards of the shelters it concerns.
        register_consent_changed_handler(consent_changed_heard)
        source_rows_register(app="shelters", remove=shelter_rows_remove, load_sample=shelters_sample_load)
