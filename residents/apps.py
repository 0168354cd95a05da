from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    """The resident's own page (/me/): what the city holds about them, their consents, their
    consent records, who looked at their data, downloads and requests for correction."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "residents"
    verbose_name = _("Residents")

    def ready(self):
        from residents.services import correction_requests_anonymise_person
        from shelters.services.retention import register_person_anonymised_handler

        register_person_anonymised_handler(correction_requests_anonymise_person)
