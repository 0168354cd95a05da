from django.apps import AppConfig


class CityOSConfig(AppConfig):
    name = "cityos"
    verbose_name = "City OS"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from cityos import sync

        # A City OS sign-in applies the resident's opt-in (cityos/sync.py).
        user_logged_in.connect(sync.signed_in, dispatch_uid="cityos.sync.signed_in")
