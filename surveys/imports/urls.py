from django.urls import path

from surveys.imports import views as import_views

app_name = "survey_imports"

urlpatterns = [
    path("", import_views.import_list, name="list"),
    path("<int:job_id>/", import_views.import_detail, name="detail"),
    path("<int:job_id>/progress/", import_views.import_progress, name="progress"),
    path("<int:job_id>/save-mapping/", import_views.import_mapping_save, name="save_mapping"),
]
