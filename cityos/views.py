"""Sign-in with the City OS (OpenID Connect, authorization code with PKCE): the two views of the
relying party, on mozilla-django-oidc's, and the logout that ends the City OS's session as well.

A sign-in that cannot finish (a forged or stale state, no code, the resident cancelled, the City OS
out of reach) gets the site's error page in the one shape (common.error_pages.refusal), never a 500.
"""

import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from cityos import client
from common.error_pages import refusal
from common.roles import role_of

logger = logging.getLogger(__name__)

SIGN_IN_FAILED = _("Sign-in with the City OS did not complete. Please start again from the login page.")
UNAVAILABLE = _("The City OS cannot be reached just now. Please try again in a few minutes, or log in with a password.")


def _unavailable(request):
    response = refusal(request, 503, message=UNAVAILABLE)
    response["Retry-After"] = "30"
    return response


class CityOSSignIn(OIDCAuthenticationRequestView):
    """Sends the browser to the City OS's authorization endpoint (from its discovery document)."""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the base class reads the endpoint here; discovery may be out
        self.OIDC_RP_CLIENT_ID = settings.CITYOS_CLIENT_ID

    def get(self, request):
        try:
            self.OIDC_OP_AUTH_ENDPOINT = client.discovery()["authorization_endpoint"]
        except client.CityOSError:
            return _unavailable(request)
        return super().get(request)


class CityOSCallback(OIDCAuthenticationCallbackView):
    """Where the City OS sends the browser back with a code; residents land on their own page."""

    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation as error:
            logger.warning("City OS sign-in refused: %s", error)
            return self.login_failure()
        except (client.CityOSError, requests.RequestException) as error:
            logger.warning("City OS sign-in failed: %s", type(error).__name__)
            return _unavailable(request)

    def login_failure(self):
        return refusal(self.request, 400, message=SIGN_IN_FAILED)

    @property
    def success_url(self) -> str:
        if role_of(self.request.user) is None:
            return reverse("me:index")
        return super().success_url


@require_POST
def logout(request):
    """Ends this site's session; after a City OS sign-in, the City OS's session too (its
    end_session_endpoint, when its discovery document names one), so the next person at a shared
    tablet is not signed in as the last."""
    id_token = request.session.get("oidc_id_token")
    auth.logout(request)
    login_url = request.build_absolute_uri(reverse("login"))
    if id_token:
        try:
            end_session = client.discovery().get("end_session_endpoint")
        except client.CityOSError:
            end_session = None
        if end_session:
            query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": login_url})
            return redirect(f"{end_session}?{query}")
    return redirect("login")
