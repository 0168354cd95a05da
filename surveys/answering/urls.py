from django.urls import path

from surveys.answering import views

app_name = "surveys"

urlpatterns = [
    path("shelters/<int:shelter_id>/poster/", views.poster, name="poster"),
    path("shelters/<int:shelter_id>/proxy/", views.proxy_entry, name="proxy"),
    path("evacuees/<int:evacuee_id>/slip/", views.slip, name="slip"),
]
