"""Pages of the follow-up list: residents whose K6 was 13 or more, and moving their case along.

HQ staff see every shelter's cases, a manager their own shelters', officials nothing (403).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access import follow_ups as follow_up_access
from access import policy
from common.errors import ApplicationError
from common.permissions import role_required
from common.roles import is_headquarters
from surveys import scoring
from surveys.follow_ups import selectors, services
from surveys.models import FollowUpState

PAGE_SIZE = 100

STATE_FILTERS = [
    (follow_up_access.OPEN, gettext_lazy("Open (not closed)")),
    *FollowUpState.choices,
    (follow_up_access.ALL, gettext_lazy("All")),
]


class FollowUpFilterForm(forms.Form):
    shelter = forms.ModelChoiceField(queryset=None, required=False, label=gettext_lazy("Shelter"))
    state = forms.ChoiceField(choices=STATE_FILTERS, required=False, label=gettext_lazy("State"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shelter"].queryset = selectors.follow_up_shelters(user=user)
        self.fields["shelter"].empty_label = _("All my shelters") if not is_headquarters(user) else _("All")


class FollowUpStateForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("Move to"))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = services.FOLLOW_UP_TRANSITIONS.get(current, set())
        self.fields["state"].choices = [(value, label) for value, label in FollowUpState.choices if value in allowed]


def _require_follow_up_role(user) -> None:
    if not policy.may_handle_follow_ups(user):
        raise PermissionDenied


def _annotate(follow_up) -> None:
    follow_up.band = scoring.k6_band(follow_up.k6_score)
    changes = list(follow_up.changes.all())  # prefetched, oldest first
    follow_up.last_change = changes[-1] if changes else None


@role_required
def follow_up_list(request):
    _require_follow_up_role(request.user)
    form = FollowUpFilterForm(request.GET or None, user=request.user)
    shelter, state = None, follow_up_access.OPEN
    if form.is_valid():
        shelter = form.cleaned_data["shelter"]
        state = form.cleaned_data["state"] or follow_up_access.OPEN
    page = follow_up_access.follow_ups_for_list(
        user=request.user,
        shelter_id=shelter.pk if shelter else None,
        state=state,
        paginate=lambda follow_ups: Paginator(follow_ups, PAGE_SIZE).get_page(request.GET.get("page")),
        purpose="page.follow_up_list",
    )
    for follow_up in page:
        _annotate(follow_up)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "surveys/follow_up_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "state": state, "shelter": shelter},
    )


@role_required
def follow_up_detail(request, follow_up_id: int):
    _require_follow_up_role(request.user)
    follow_up = follow_up_access.access_follow_up_by_id(request.user, follow_up_id, purpose="page.follow_up_detail")
    form = FollowUpStateForm(request.POST or None, current=follow_up.state)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.follow_up_change_state(
                    follow_up_id=follow_up.pk,
                    to_state=form.cleaned_data["state"],
                    actor=request.user,
                    note=form.cleaned_data["note"],
                )
            except ApplicationError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error.message))
            else:
                messages.success(request, _("Follow-up updated."))
                return redirect("follow_ups:detail", follow_up_id=follow_up.pk)
        status = 400
    else:
        status = 200
    _annotate(follow_up)
    return render(
        request,
        "surveys/follow_up_detail.html",
        {"follow_up": follow_up, "form": form, "can_move": bool(form.fields["state"].choices)},
        status=status,
    )
