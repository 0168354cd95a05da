from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SheltersConfig(AppConfig):
    name = "shelters"
    verbose_name = _("Shelter operations")

    def ready(self):
        from common.sources import source_rows_register
        from shelters import signals
        from shelters.demo import shelters_sample_load
        from shelters.sources import shelter_rows_remove

        signals.connect()
        source_rows_register(app="shelters", remove=shelter_rows_remove, load_sample=shelters_sample_load)
