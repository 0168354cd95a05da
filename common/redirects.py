"""Redirects only to this site: a `next` taken from a request must not send anyone elsewhere."""

from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_to_next(request, fallback: str) -> HttpResponseRedirect:
    """Go to the request's `next` (POST, then GET) when it is a URL of this site, else to `fallback`.

    As Django's LoginView does: another host, another scheme over HTTPS, `//host` and
    `javascript:` are refused.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)
