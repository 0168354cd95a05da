from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cityos import views as cityos_views
from config.health import healthz
from shelters import views as shelter_views

# Errors in the one shape: JSON on /api/, a translated page with the navigation elsewhere.
handler400 = "common.error_pages.bad_request"
handler403 = "common.error_pages.permission_denied"
handler404 = "common.error_pages.page_not_found"
handler500 = "common.error_pages.server_error"

urlpatterns = [
    path("", shelter_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", cityos_views.logout, name="logout"),
    path("oidc/", include("cityos.urls")),
    path("me/", include("residents.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("shelters/", include("shelters.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("surveys/imports/", include("surveys.imports.urls")),
    path("surveys/", include("surveys.answering.urls")),
    path("s/", include("surveys.answering.public_urls")),
    path("consent/", include("consent.urls")),
    path("surveys/follow-ups/", include("surveys.follow_ups.urls")),
    path("reports/", include("surveys.reports.urls")),
    path("supplies/", include("supply.urls")),
    path("security/", include("common.urls")),
    path("residents/", include("residents.hq_urls")),
    path("hq/", include("shelters.hq_urls")),
    path("api/", include("config.api_urls")),
    path("api/", include("surveys.follow_ups.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
