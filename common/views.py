"""HQ's page of login lockouts: who is locked out, and lifting a lockout before it ends."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.lockouts import can_lift_lockouts, login_lockout_clear, login_lockouts_active
from common.permissions import role_required


class LockoutClearForm(forms.Form):
    ip_address = forms.GenericIPAddressField()
    username = forms.CharField(max_length=150, required=False)


def _hq_only(request) -> None:
    if not can_lift_lockouts(request.user):
        raise PermissionDenied


@role_required
def lockout_list(request):
    _hq_only(request)
    return render(request, "common/lockouts.html", {"lockouts": login_lockouts_active()})


@role_required
@require_POST
def lockout_clear(request):
    _hq_only(request)
    form = LockoutClearForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("security:lockouts")
    login_lockout_clear(
        actor=request.user,
        ip_address=form.cleaned_data["ip_address"],
        username=form.cleaned_data["username"] or None,
    )
    messages.success(request, _("The lockout is lifted."))
    return redirect("security:lockouts")
