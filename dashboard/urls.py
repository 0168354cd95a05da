from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.hq_dashboard, name="hq"),
    path("shelters/<int:shelter_id>/", views.shelter_dashboard, name="shelter"),
    path("history/", views.history, name="history"),
]
