from django.urls import path

from residents import views

app_name = "residents"

urlpatterns = [
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/<int:request_id>/handle/", views.correction_handle, name="correction_handle"),
]
