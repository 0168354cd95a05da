from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "cityos.sandbox"
    label = "cityos_sandbox"
    verbose_name = "City OS sandbox"
    default_auto_field = "django.db.models.BigAutoField"
