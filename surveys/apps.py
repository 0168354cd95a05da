from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self):
        from shelters.services.moves import register_person_moved_handler
        from surveys.follow_ups.services import follow_ups_follow_person

        register_person_moved_handler(follow_ups_follow_person)
