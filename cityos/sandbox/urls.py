from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import urls as oauth2_urls

from cityos.sandbox import views

urlpatterns = [
    path("", views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("resident/", views.resident, name="resident"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "o/",
        include(
            (oauth2_urls.base_urlpatterns + oauth2_urls.oidc_urlpatterns, oauth2_urls.app_name),
            namespace="oauth2_provider",
        ),
    ),
    path("api/attributes/residents/<str:city_os_id>", views.attributes, name="api-attributes"),
    path("api/optin/residents/<str:city_os_id>/consents", views.consents, name="api-consents"),
    path("api/location/areas", views.areas, name="api-areas"),
]
