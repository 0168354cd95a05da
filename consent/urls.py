"""The resident answers the desk's questions on their own phone (no staff login)."""

from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("ask/", views.ask_signed_in, name="ask_signed_in"),
    path("ask/<str:token>/", views.ask_own_device, name="ask_own_device"),
]
