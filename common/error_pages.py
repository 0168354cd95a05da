"""Every error the site answers outside DRF's views, in the one shape: the JSON of common/errors.py
on /api/ paths, a translated page with the site's navigation elsewhere.

config/urls.py names these as Django's handler400/403/404/500; `common.middleware` shapes the
errors views answer with an empty body (405 from `require_POST`, 413, 429).
"""

import http

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from common.errors import BUSY_RETRY_AFTER_SECONDS, ApplicationError, error_body, is_api_request

# What each status means to the person who met it, and the code the JSON names it by.
_REFUSALS = {
    400: ("invalid", _("The request could not be understood.")),
    403: ("permission_denied", _("You do not have permission to do this.")),
    404: ("not_found", _("Not found.")),
    405: ("method_not_allowed", _("This address does not take that kind of request.")),
    413: ("request_too_large", _("The request is too large.")),
    429: ("throttled", _("Too many requests. Wait a moment and try again.")),
    500: ("server_error", _("Something went wrong on our side. Please try again.")),
}


def refusal(request, status: int, *, message=None, fields: dict[str, list[str]] | None = None) -> HttpResponse:
    """The one answer for an error: JSON on the API, a page elsewhere."""
    code, default = _REFUSALS.get(status, ("error", http.HTTPStatus(status).phrase))
    message = message or default
    if is_api_request(request):
        return JsonResponse(error_body(code, message, fields), status=status)
    context = {"status": status, "message": message, "fields": fields or {}}
    return render(request, "error.html", context, status=status)


def bad_request(request, exception=None, template_name=None):
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent):
        return refusal(request, 413)
    return refusal(request, 400)


def permission_denied(request, exception=None, template_name=None):
    return refusal(request, 403)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent from a stale page or another site."""
    return refusal(request, 403, message=_("This form has expired. Reload the page and send it again."))


def page_not_found(request, exception=None, template_name=None):
    return refusal(request, 404)


def server_error(request, template_name=None):
    """Needs neither the database nor the user (either may be what failed): no context processors."""
    if is_api_request(request):
        code, message = _REFUSALS[500]
        return JsonResponse(error_body(code, message), status=500)
    return HttpResponse(render_to_string("500.html", {"message": _REFUSALS[500][1]}), status=500)


def database_busy(request, error: ApplicationError) -> HttpResponse:
    """503 for a bounded database wait; like server_error, it needs neither the database nor the user."""
    if is_api_request(request):
        response = JsonResponse(error_body(error.code, error.message), status=error.status_code)
    else:
        response = HttpResponse(render_to_string("500.html", {"message": error.message}), status=error.status_code)
    response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response
