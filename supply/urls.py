from django.urls import path

from supply import views

app_name = "supply"

urlpatterns = [
    path("", views.supply_board, name="board"),
    path("shelters/<int:shelter_id>/", views.shelter_supplies, name="shelter"),
]
