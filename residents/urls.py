from django.urls import path

from residents import views

urlpatterns = [path("", views.me, name="me")]
