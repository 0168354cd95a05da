from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self):
        from common.sources import source_rows_register
        from consent.services import register_consent_changed_handler
        from shelters.services.moves import register_person_moved_handler
        from shelters.services.retention import register_person_anonymised_handler
        from surveys.events import consent_changed_heard
        from surveys.follow_ups.services import follow_ups_follow_person, follow_ups_open_for_person
        from surveys.services import survey_data_anonymise_person
        from surveys.sources import survey_rows_remove, survey_sample_load

        # Answers, follow-ups and imports refer to shelters and people.
        source_rows_register(
            app="surveys", depends_on=("shelters",), remove=survey_rows_remove, load_sample=survey_sample_load
        )
        register_person_moved_handler(follow_ups_follow_person, pending=follow_ups_open_for_person)
        register_person_anonymised_handler(survey_data_anonymise_person)
        register_consent_changed_handler(consent_changed_heard)
