from django.urls import path

from shelters import hq_views

app_name = "hq"

urlpatterns = [
    path("disasters/", hq_views.disasters, name="disasters"),
    path("disasters/declare/", hq_views.disaster_declare, name="disaster_declare"),
    path("disasters/<int:disaster_id>/close/", hq_views.disaster_close, name="disaster_close"),
    path("releases/", hq_views.releases_page, name="releases"),
    path("releases/declare/", hq_views.release_declare, name="release_declare"),
    path("releases/<int:release_id>/revoke/", hq_views.release_revoke, name="release_revoke"),
]
