"""A resident's own page (placeholder: where the City OS sign-in lands; the page itself comes with
the consent work)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def me(request):
    return render(request, "residents/me.html", {"city_os_id": request.user.city_os_id})
