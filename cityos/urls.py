from django.urls import path

from cityos import views

app_name = "cityos"

urlpatterns = [
    path("authenticate/", views.CityOSSignIn.as_view(), name="sign_in"),
    path("callback/", views.CityOSCallback.as_view(), name="callback"),
]
