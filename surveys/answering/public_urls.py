"""Pages without login, opened from a shelter's poster: only its signed key leads here."""

from django.urls import path

from surveys.answering import public_views

app_name = "surveys_public"

urlpatterns = [
    path("<str:key>/", public_views.answer, name="answer"),
    path("<str:key>/thanks/", public_views.thanks, name="thanks"),
]
