"""Permission helpers for pages and the API: signed in with a role. Finer rules ask `access`."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from rest_framework import permissions

from common.roles import is_staff_member


def role_required(view):
    """A page for staff: anonymous users go to the login page, users without a role get 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_staff_member(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


class HasRole(permissions.BasePermission):
    """Signed in with a role: HQ, shelter manager, official or administrator."""

    def has_permission(self, request, view):
        return is_staff_member(request.user)
