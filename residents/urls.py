from django.urls import path

from residents import views

app_name = "me"

urlpatterns = [
    path("", views.me, name="index"),
    path("consents/", views.consents, name="consents"),
    path("records/", views.records, name="records"),
    path("records/<uuid:receipt_id>.json", views.receipt, name="receipt"),
    path("accesses/", views.accesses, name="accesses"),
    path("data.json", views.data_json, name="data_json"),
    path("data.csv", views.data_csv, name="data_csv"),
    path("correction/", views.correction, name="correction"),
]
