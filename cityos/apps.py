from django.apps import AppConfig


class CityOSConfig(AppConfig):
    name = "cityos"
    verbose_name = "City OS"
