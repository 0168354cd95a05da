from django.urls import path

from shelters import views

app_name = "shelters"

urlpatterns = [
    path("", views.shelter_list, name="list"),
    path("<int:shelter_id>/", views.shelter_detail, name="detail"),
    path("<int:shelter_id>/desk/", views.desk, name="desk"),
    path("<int:shelter_id>/desk/check-in/", views.desk_check_in, name="desk_check_in"),
    path("<int:shelter_id>/desk/walk-in/", views.desk_walk_in, name="desk_walk_in"),
    path("<int:shelter_id>/desk/consent/", views.desk_consent, name="desk_consent"),
    path("<int:shelter_id>/desk/city-os/", views.desk_city_os_check_in, name="desk_city_os_check_in"),
    path("<int:shelter_id>/residents/", views.residents, name="residents"),
    path("<int:shelter_id>/stays/<int:stay_id>/check-out/", views.stay_check_out, name="check_out"),
    path("<int:shelter_id>/stays/<int:stay_id>/transfer/", views.stay_transfer, name="transfer"),
    path("evacuees/<int:evacuee_id>/", views.evacuee_detail, name="evacuee"),
    path("evacuees/<int:evacuee_id>/legal-hold/", views.evacuee_legal_hold, name="legal_hold"),
]
