from django.urls import path

from common import views

app_name = "security"

urlpatterns = [
    path("lockouts/", views.lockout_list, name="lockouts"),
    path("lockouts/clear/", views.lockout_clear, name="lockout_clear"),
]
