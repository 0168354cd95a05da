from django.urls import path

from surveys.reports import views as report_views

app_name = "reports"

urlpatterns = [
    path("", report_views.report_page, name="index"),
    path("print/", report_views.report_print, name="print"),
    path("<slug:table>.csv", report_views.report_csv, name="csv"),
]
